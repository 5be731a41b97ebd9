"""The incident timeline: automatic entries written by every change, manual entries written by people.

Manual entries carry two times: `event_at` (when it happened, given by the writer, may be in the past) and
`recorded_at` (when it was written, set by the server). The narrative export orders by `event_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.core.errors import ValidationFailed
from mamori.incidents import access
from mamori.incidents.enums import EntryKind
from mamori.incidents.models import Incident, TimelineEntry
from mamori.incidents.schemas import EntryIn
from mamori.storage.db import utcnow


def record(
    session: Session,
    *,
    incident: Incident,
    kind: EntryKind,
    actor: str,
    text: str,
    details: dict[str, Any] | None = None,
    event_at: datetime | None = None,
) -> TimelineEntry:
    now = utcnow()
    entry = TimelineEntry(
        incident_id=incident.id,
        kind=kind.value,
        event_at=event_at or now,
        recorded_at=now,
        actor=actor[:100],
        text=text,
        details=details or {},
    )
    session.add(entry)
    return entry


def add_manual(session: Session, *, principal: Principal, incident_id: int, data: EntryIn) -> TimelineEntry:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.work")
    if data.event_at is not None and data.event_at.tzinfo is None:
        raise ValidationFailed("event_at needs a time zone", where="event_at")
    if data.event_at is not None and data.event_at > utcnow():
        raise ValidationFailed("event_at is in the future", where="event_at")
    entry = record(
        session, incident=incident, kind=EntryKind.MANUAL, actor=principal.name, text=data.text, event_at=data.event_at
    )
    session.flush()
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.timeline.add",
        object_type="timeline_entry",
        object_id=entry.id,
        details={"event_at": entry.event_at.isoformat()},
    )
    return entry


def list_(
    session: Session,
    *,
    principal: Principal,
    incident_id: int,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
) -> Sequence[TimelineEntry]:
    """Entries in event order, keyset-paginated on (event_at, id) so deep pages cost the same as the first."""
    incident = access.get(session, principal=principal, incident_id=incident_id)
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
    if after is not None:
        query = query.where(tuple_(TimelineEntry.event_at, TimelineEntry.id) > tuple_(*after))
    order = (TimelineEntry.event_at, TimelineEntry.id)
    return session.scalars(query.order_by(*order).limit(min(limit, 1000))).all()


def narrative(session: Session, *, principal: Principal, incident_id: int) -> str:
    """The timeline as plain text, one paragraph per entry, for the report and for e-mail."""
    incident = access.get(session, principal=principal, incident_id=incident_id)
    lines = [f"Incident {incident.id}: {incident.title} ({incident.org_id})", ""]
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.event_at, TimelineEntry.id)
    )
    for entry in session.scalars(query):
        late = ""
        if (entry.recorded_at - entry.event_at).total_seconds() > 300:
            late = f" (recorded {entry.recorded_at:%Y-%m-%d %H:%M}Z)"
        lines.append(f"{entry.event_at:%Y-%m-%d %H:%M}Z{late} — {entry.actor}: {entry.text}")
    return "\n".join(lines) + "\n"
