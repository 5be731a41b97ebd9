"""Incidents service: create (by hand or from alerts), read with keyset pagination, update, move through phases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.accounts.service import org_id_of, org_slug, principal_for
from mamori.alerts.enums import AlertStatus
from mamori.alerts.enums import Resolution as AlertResolution
from mamori.alerts.models import Alert
from mamori.core.errors import Conflict, ValidationFailed
from mamori.core.severity import Severity
from mamori.incidents import access, observables, tasks, timeline, workflow
from mamori.incidents.enums import Category, EntryKind, Phase
from mamori.incidents.errors import AlertInAnotherIncident
from mamori.incidents.models import Incident, IncidentAlert
from mamori.incidents.schemas import IncidentFilter, IncidentIn, IncidentUpdate, TransitionIn
from mamori.storage.db import utcnow

get = access.get
COUNT_CAP = 999  # board counts above this show as "999+"


def list_(session: Session, *, principal: Principal, filters: IncidentFilter) -> tuple[Sequence[Incident], int | None]:
    """Newest first, keyset-paginated on id: returns the page and the cursor for the next one."""
    query = _filtered(principal, filters)
    if filters.before_id:
        query = query.where(Incident.id < filters.before_id)
    rows = session.scalars(query.order_by(Incident.id.desc()).limit(filters.limit + 1)).all()
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (rows[-1].id if more and rows else None)


def count(session: Session, *, principal: Principal, filters: IncidentFilter) -> int:
    """How many incidents match (the cursor ignored), counted up to COUNT_CAP + 1 ("999+") like the board."""
    matching = _filtered(principal, filters).with_only_columns(Incident.id).limit(COUNT_CAP + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def _filtered(principal: Principal, filters: IncidentFilter) -> Select[Incident]:
    query = access.visible_query(principal)
    if filters.org:
        query = query.where(Incident.org_id == org_slug(filters.org))
    if filters.phase:
        query = query.where(Incident.phase == filters.phase.value)
    if filters.category:
        query = query.where(Incident.category == filters.category.value)
    if filters.severity:
        query = query.where(Incident.severity == filters.severity.value)
    if filters.q and filters.q.strip():
        query = query.where(_text_matches(filters.q.strip()))
    if filters.closed_from and filters.closed_to and filters.closed_from > filters.closed_to:
        raise ValidationFailed("the first day comes after the last day", where="closed_from")
    if filters.closed_from:
        query = query.where(Incident.closed_at >= _day_start(filters.closed_from))
    if filters.closed_to:  # the whole last day is included
        query = query.where(Incident.closed_at < _day_start(filters.closed_to + timedelta(days=1)))
    return query


def _text_matches(text: str) -> ColumnElement[bool]:
    """A title containing the text (case-insensitive, % and _ taken literally), or the reference "#12"/"12"."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    condition: ColumnElement[bool] = Incident.title.ilike(pattern, escape="\\")
    reference = text.removeprefix("#")
    if reference.isdigit() and len(reference) < 18:
        condition = or_(condition, Incident.id == int(reference))
    return condition


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def board(
    session: Session, *, principal: Principal, org: str | None = None, per_phase: int = 20
) -> dict[Phase, tuple[Sequence[Incident], int]]:
    """The board: for each active phase the newest incidents (one keyset scan each) and a capped count."""
    visible = access.visible_query(principal)
    if org:
        visible = visible.where(Incident.org_id == org_slug(org))
    out: dict[Phase, tuple[Sequence[Incident], int]] = {}
    for phase in workflow.ACTIVE:
        rows, _ = list_(session, principal=principal, filters=IncidentFilter(org=org, phase=phase, limit=per_phase))
        out[phase] = (rows, 0)
    # Counts stop at COUNT_CAP (shown as "999+"): an exact count of a national phase costs a scan of every
    # matching row, the capped one at most COUNT_CAP index entries, all phases in one statement.
    capped = [
        select(func.count()).select_from(visible.where(Incident.phase == p.value).limit(COUNT_CAP + 1).subquery())
        for p in workflow.ACTIVE
    ]
    counts = session.execute(select(*[c.scalar_subquery() for c in capped])).one()
    for phase, n in zip(workflow.ACTIVE, counts, strict=True):
        out[phase] = (out[phase][0], int(n))
    return out


def create(
    session: Session, *, principal: Principal | None, data: IncidentIn, group_key: str | None = None
) -> Incident:
    """By hand (principal given) or by a grouping rule (principal None). Alerts must be of the same org."""
    data = data.model_copy(update={"org_id": org_id_of(session, data.org_id, where="org_id")})
    if principal is not None:
        principal.require("incidents.manage", data.org_id)
    alerts = _alerts_for(session, principal, data.org_id, data.alert_ids)
    _refuse_escalated(session, alerts, into=None)
    now = utcnow()
    incident = Incident(
        org_id=data.org_id,
        title=data.title,
        description=data.description,
        category=data.category.value,
        severity=data.severity.value,
        tlp=data.tlp.value,
        pap=data.pap.value,
        phase=Phase.TRIAGE.value,
        group_key=group_key,
        created_by=access.actor_of(principal),
        detected_at=min([a.first_seen for a in alerts], default=now),
        created_at=now,
    )
    session.add(incident)
    session.flush()
    actor = access.actor_of(principal)
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.STATUS,
        actor=actor,
        text=f"Incident opened in triage ({incident.category}, {incident.severity})",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.create",
        details={"title": data.title, "category": incident.category, "alerts": data.alert_ids},
    )
    _link(session, incident, alerts, actor)
    tasks.apply_playbook(session, incident=incident, actor=actor)
    return incident


def _alerts_for(session: Session, principal: Principal | None, org_id: str, alert_ids: Sequence[int]) -> list[Alert]:
    alerts = []
    for alert_id in dict.fromkeys(alert_ids):
        alert = session.get(Alert, alert_id)
        visible = alert is not None and (principal is None or principal.can("alerts.view", alert.org_id))
        if alert is None or not visible or alert.org_id != org_id:
            raise ValidationFailed(f"alert {alert_id} is not an alert of {org_id}", where="alert_ids")
        alerts.append(alert)
    return alerts


def _refuse_escalated(session: Session, alerts: Sequence[Alert], *, into: int | None) -> None:
    """One alert belongs to at most one incident: refuse, naming it, an alert already in another one."""
    if not alerts:
        return
    query = select(IncidentAlert.alert_id, IncidentAlert.incident_id).where(
        IncidentAlert.alert_id.in_([a.id for a in alerts])
    )
    for alert_id, incident_id in session.execute(query).tuples():
        if incident_id != into:
            raise AlertInAnotherIncident(
                f"alert {alert_id} belongs to incident #{incident_id} already (an alert goes into one incident)",
                incident_id=incident_id,
                where="alert_ids",
            )


def incident_of_alerts(session: Session, *, principal: Principal, alert_ids: Sequence[int]) -> dict[int, int | None]:
    """Alert id → the incident it was escalated into; None where that incident is not the caller's to see
    (the alert is escalated all the same, so nobody is offered to open a second incident for it)."""
    if not alert_ids:
        return {}
    query = select(IncidentAlert.alert_id, IncidentAlert.incident_id).where(IncidentAlert.alert_id.in_(list(alert_ids)))
    links = {alert_id: incident_id for alert_id, incident_id in session.execute(query).tuples()}
    if not links:
        return {}
    visible_ids = access.visible_query(principal).with_only_columns(Incident.id)
    seen = set(session.scalars(visible_ids.where(Incident.id.in_(set(links.values())))))
    return {alert_id: (incident_id if incident_id in seen else None) for alert_id, incident_id in links.items()}


def _add_link(session: Session, incident: Incident, alert: Alert) -> None:
    """The unique constraint decides a race the check before lost (two people escalating the same alert at
    once): the loser gets the same clear refusal, not a database error."""
    try:
        with session.begin_nested():
            session.add(IncidentAlert(incident_id=incident.id, alert_id=alert.id))
    except IntegrityError:
        winner = session.scalar(select(IncidentAlert.incident_id).where(IncidentAlert.alert_id == alert.id))
        raise AlertInAnotherIncident(
            f"alert {alert.id} belongs to incident #{winner} already (an alert goes into one incident)",
            incident_id=winner,
            where="alert_ids",
        ) from None


def _link(session: Session, incident: Incident, alerts: Sequence[Alert], actor: str) -> None:
    """Attach alerts: timeline entry, observables, and the alert is closed as escalated."""
    present = set(session.scalars(select(IncidentAlert.alert_id).where(IncidentAlert.incident_id == incident.id)))
    fresh = [a for a in alerts if a.id not in present]
    for alert in fresh:
        _add_link(session, incident, alert)
        timeline.record(
            session,
            incident=incident,
            kind=EntryKind.ALERT,
            actor=actor,
            text=f"Alert {alert.id} attached: {alert.rule_title}",
            details={"alert_id": alert.id},
            event_at=alert.first_seen,
        )
        if alert.status != AlertStatus.CLOSED.value:
            alert.status, alert.resolution = AlertStatus.CLOSED.value, AlertResolution.ESCALATED.value
        if Severity.parse(alert.severity).rank > Severity.parse(incident.severity).rank:
            incident.severity = alert.severity
        incident.detected_at = min(incident.detected_at, alert.first_seen)
    observables.extract_from_alerts(session, incident=incident, alerts=fresh, actor=actor)


def attach_alerts(
    session: Session, *, principal: Principal | None, incident_id: int, alert_ids: Sequence[int]
) -> Incident:
    if principal is None:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise ValidationFailed(f"no incident {incident_id}")
    else:
        incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.manage")
    alerts = _alerts_for(session, principal, incident.org_id, alert_ids)
    _refuse_escalated(session, alerts, into=incident.id)
    _link(session, incident, alerts, access.actor_of(principal))
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.alerts.attach",
        details={"alerts": list(alert_ids)},
    )
    return incident


def alerts_of(session: Session, *, principal: Principal, incident_id: int) -> Sequence[Alert]:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    query = (
        select(Alert)
        .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident.id)
    )
    return session.scalars(query.order_by(Alert.first_seen)).all()


def update(session: Session, *, principal: Principal, incident_id: int, data: IncidentUpdate) -> Incident:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.manage")
    changes = data.model_dump(exclude_unset=True)
    emptied = [k for k, v in changes.items() if v is None and k != "lead_id"]  # only the lead may be unset
    if emptied:
        raise ValidationFailed(f"{emptied[0]} cannot be emptied; leave it out to keep it", where=emptied[0])
    if "lead_id" in changes:
        _check_lead(session, incident, changes["lead_id"])
    before = {k: getattr(incident, k) for k in changes}
    for key, value in changes.items():
        setattr(incident, key, value.value if hasattr(value, "value") else value)
    diff = {k: [str(before[k]), str(getattr(incident, k))] for k in changes if before[k] != getattr(incident, k)}
    if not diff:
        return incident
    text = "; ".join(f"{k}: {old} → {new}" for k, (old, new) in diff.items() if k not in ("description", "root_cause"))
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.STATUS,
        actor=principal.name,
        text=f"Updated {', '.join(diff)}" + (f" ({text})" if text else ""),
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.update",
        details={k: v for k, v in diff.items() if k not in ("description", "root_cause")},
    )
    if "category" in diff:  # a recategorised incident gets the new category's playbook too
        tasks.apply_playbook(session, incident=incident, actor=principal.name)
    return incident


def _check_lead(session: Session, incident: Incident, user_id: int | None) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not principal_for(session, user).can_incident("incidents.work", incident.org_id, incident.id):
        raise ValidationFailed(f"user {user_id} cannot lead this incident", where="lead_id")


def transition(
    session: Session, *, principal: Principal, incident_id: int, data: TransitionIn, now: datetime | None = None
) -> Incident:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.manage")
    move = workflow.check(incident, data.phase, data.resolution, data.reason)
    workflow.apply(incident, move, now or utcnow())
    suffix = f" as {move.resolution.value}" if move.resolution else ""
    note = f": {data.note}" if data.note else ""
    text = f"Phase {move.source.value} → {move.target.value}{suffix}{note}"
    if move.closes:
        text = f"Phase {move.source.value} → {move.target.value}{suffix}, reason: {move.reason}{note}"
    if move.reopens:
        text = f"Reopened ({move.source.value} → {move.target.value}), reason: {move.reason}{note}"
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.STATUS,
        actor=principal.name,
        text=text,
        details={
            "from": move.source.value,
            "to": move.target.value,
            **({"reason": move.reason} if move.reason else {}),
        },
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.transition",
        details={
            "from": move.source.value,
            "to": move.target.value,
            "resolution": move.resolution.value if move.resolution else None,
            **({"reopened": True} if move.reopens else {}),
            **({"reason": move.reason} if move.reason else {}),
        },
    )
    return incident


def acknowledge(session: Session, *, principal: Principal, incident_id: int) -> Incident:
    """Someone has taken the incident in hand (the clock for time-to-acknowledge stops)."""
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.manage")
    if incident.acknowledged_at is not None:
        raise Conflict(f"incident {incident.id} was acknowledged already")
    incident.acknowledged_at = utcnow()
    timeline.record(
        session, incident=incident, kind=EntryKind.STATUS, actor=principal.name, text="Incident acknowledged"
    )
    access.changed(session, principal=principal, incident=incident, action="incident.acknowledge")
    return incident


def categories() -> list[Category]:
    return list(Category)
