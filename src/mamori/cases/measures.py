"""Recurrence-prevention measures: tracked items with an owner and a due date, open until done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mamori.accounts.principal import GRANTED_INCIDENT_ACTIONS, Principal
from mamori.cases.enums import MeasureStatus
from mamori.cases.models import Measure
from mamori.cases.schemas import MeasureDone, MeasureIn
from mamori.core.errors import Conflict, NotFound
from mamori.incidents import access, timeline
from mamori.incidents.enums import EntryKind
from mamori.storage.db import utcnow


def add(session: Session, *, principal: Principal, incident_id: int, data: MeasureIn) -> Measure:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.work")
    row = Measure(
        incident_id=incident.id,
        org_id=incident.org_id,
        title=data.title,
        owner=data.owner,
        due_on=data.due_on,
        created_by=principal.name,
    )
    session.add(row)
    session.flush()
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Measure agreed: {data.title} (owner {data.owner}, due {data.due_on})",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="measure.create",
        object_type="measure",
        object_id=row.id,
    )
    return row


def complete(session: Session, *, principal: Principal, measure_id: int, data: MeasureDone) -> Measure:
    row = session.get(Measure, measure_id)
    if row is None:
        raise NotFound(f"measure {measure_id} not found")
    try:
        incident = access.get(session, principal=principal, incident_id=row.incident_id, action="incidents.work")
    except NotFound:
        raise NotFound(f"measure {measure_id} not found") from None
    if row.status == MeasureStatus.DONE.value:
        raise Conflict(f"measure {row.id} is done already")
    row.status, row.done_at, row.done_note = MeasureStatus.DONE.value, utcnow(), data.note
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Measure done: {row.title}" + (f" — {data.note}" if data.note else ""),
    )
    access.changed(
        session, principal=principal, incident=incident, action="measure.done", object_type="measure", object_id=row.id
    )
    return row


def list_(
    session: Session, *, principal: Principal, incident_id: int | None = None, open_only: bool = False
) -> Sequence[Measure]:
    query = select(Measure).order_by(Measure.due_on, Measure.id).limit(1000)
    if incident_id is not None:
        incident = access.get(session, principal=principal, incident_id=incident_id)
        query = query.where(Measure.incident_id == incident.id)
    else:
        orgs = principal.visible_orgs("incidents.view")
        if orgs is not None:
            granted = principal.incident_grants if "incidents.view" in GRANTED_INCIDENT_ACTIONS else frozenset()
            query = query.where(or_(Measure.org_id.in_(orgs), Measure.incident_id.in_(granted)))
    if open_only:
        query = query.where(Measure.status == MeasureStatus.OPEN.value)
    return session.scalars(query).all()


def overdue(measure: Measure, today: date) -> bool:
    return measure.status == MeasureStatus.OPEN.value and measure.due_on < today
