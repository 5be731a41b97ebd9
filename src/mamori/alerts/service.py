"""Alerts service: fold detections into alerts (idempotently) and let people triage them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, func, insert, or_, select
from sqlalchemy.orm import Session

from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.accounts.service import holders_of, org_slug, principal_for
from mamori.alerts.enums import AlertStatus, Resolution
from mamori.alerts.models import Alert, AlertComment, AlertDetection, AlertEvent, DailyCount
from mamori.alerts.schemas import AlertFilter, BulkOutcome, BulkResult, BulkTriage, TriageAction
from mamori.audit import service as audit
from mamori.bus import subjects
from mamori.core.errors import Conflict, MamoriError, NotFound, ValidationFailed
from mamori.core.messages import RAW, Detection, Event, started
from mamori.core.severity import Severity
from mamori.i18n import _
from mamori.storage.outbox import enqueue, enqueue_many

MAX_EVENT_RAW = 4096
_ATTACK_ID = re.compile(r"^[tgs]\d{4}")  # raw text kept per stored triggering event


@dataclass(frozen=True)
class Folded:
    alert: Alert
    created: bool


# Where each producer puts the address an attack came from, by the Sigma taxonomy's field names: the network
# taxonomy, web server logs (W3C `c-ip`), Windows logons (`IpAddress`), Sysmon network events (`SourceIp`), and
# the platform's own entities. The first present wins; `-` (a local logon) is no address.
SOURCE_ADDRESS_FIELDS = ("src_ip", "client_ip", "c-ip", "IpAddress", "SourceIp", "SourceAddress", "src")


def source_address(entities: dict[str, Any]) -> str | None:
    """The attacking address, whichever producer named it and whatever its log source calls it."""
    for name in SOURCE_ADDRESS_FIELDS:
        value = entities.get(name)
        if value not in (None, "", "-") and not isinstance(value, dict | list):
            return str(value)
    return None


def dedup_key(d: Detection) -> str:
    """Same organisation, rule and identity (the entities its producer says tell actors apart) → the same alert
    while it is open. Deterministic, so a redelivered detection folds into the alert it made the first time."""
    identity = json.dumps(sorted((str(k), str(v)) for k, v in d.identifying.items()), ensure_ascii=False)
    basis = f"{d.org}|{d.producer}|{d.rule_id}|{identity}|{d.exercise_id or ''}"
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def category_of(d: Detection) -> str:
    """The statistics category: the ATT&CK tactic when the rule names one, else the producer."""
    for tag in d.tags:
        name = tag.lower().removeprefix("attack.")
        if name != tag.lower() and not _ATTACK_ID.match(name):  # a tactic, not a technique/group/software id
            return name.replace("_", "-")[:50]
    return d.producer


@dataclass
class _FoldState:
    """What one fold call has read or created, so that a batch costs a handful of statements, not several per
    detection (on SQLite a query per detection held the write lock for tens of seconds and starved ingest)."""

    open_alerts: dict[str, Alert | None] = field(default_factory=dict)  # dedup key → the open alert (or none)
    stored_events: dict[Alert, int] = field(default_factory=dict)  # triggering events already kept per alert
    daily: dict[tuple[date, str, str], DailyCount] = field(default_factory=dict)


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _known_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(session.scalars(select(AlertDetection.key).where(AlertDetection.key.in_(chunk))))
    return found


def _load_open_alerts(session: Session, keys: list[str], state: _FoldState) -> None:
    """Every open alert of these dedup keys, and how many events each keeps, in two queries per 500 keys."""
    state.open_alerts.update(dict.fromkeys(keys))
    for chunk in _chunks(keys):
        alerts = session.scalars(
            select(Alert).where(Alert.dedup_key.in_(chunk), Alert.status != AlertStatus.CLOSED.value)
        ).all()
        for alert in alerts:
            if state.open_alerts[alert.dedup_key] is None:  # a key has at most one open alert
                state.open_alerts[alert.dedup_key] = alert
        counts = _kept_event_counts(session, [a.id for a in alerts])
        for alert in alerts:
            state.stored_events[alert] = counts.get(alert.id, 0)


def _kept_event_counts(session: Session, alert_ids: list[int]) -> dict[int, int]:
    if not alert_ids:
        return {}
    query = (
        select(AlertEvent.alert_id, func.count())
        .where(AlertEvent.alert_id.in_(alert_ids))
        .group_by(AlertEvent.alert_id)
    )
    return dict(session.execute(query).tuples().all())


def fold(session: Session, detections: Iterable[Detection], *, keep_events: int = 20) -> list[Folded]:
    """Turn detections into new or repeated alerts. A detection whose key was seen before is skipped.

    Two passes: first every alert is found or created and updated (new ones inserted together in one flush),
    then the rows that need their ids (detection keys, kept events, outbox messages) are added.
    """
    pending = list(detections)
    with session.no_autoflush:
        known = _known_keys(session, [d.key for d in pending])
        fresh: list[Detection] = []
        for d in pending:
            if d.key not in known:
                known.add(d.key)
                fresh.append(d)
        state = _FoldState()
        keys = [dedup_key(d) for d in fresh]
        _load_open_alerts(session, sorted(set(keys)), state)
        folded = [_fold_one(session, d, key, state) for d, key in zip(fresh, keys, strict=True)]
        session.flush()  # one batched INSERT … RETURNING gives every new alert its id
        rows = _Rows()
        for d, one in zip(fresh, folded, strict=True):
            rows.keep(d, one, keep_events, state)
            if d.exercise_id is None:
                _count(session, d, state)
        rows.insert(session)
    return folded


@dataclass
class _Rows:
    """The rows a fold adds that nothing reads back: inserted in bulk (thousands per batch; ORM objects for
    each cost more than the rest of the fold)."""

    detections: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)  # one message per alert and batch

    def keep(self, d: Detection, folded: Folded, keep_events: int, state: _FoldState) -> None:
        """The detection's key, its first triggering events (up to ``keep_events`` per alert), the change."""
        alert = folded.alert
        self.detections.append({"key": d.key, "alert_id": alert.id, "at": d.timestamp})
        stored = state.stored_events[alert]
        for event in d.events[: max(0, keep_events - stored)]:
            self.events.append({"alert_id": alert.id, "event": _trim(event)})
            state.stored_events[alert] += 1
        change = "created" if folded.created else self.changes.get(alert.id, {}).get("change", "repeat")
        self.changes[alert.id] = {"alert_id": alert.id, "org": d.org, "change": change}

    def insert(self, session: Session) -> None:
        if self.detections:
            session.execute(insert(AlertDetection), self.detections)
        if self.events:
            session.execute(insert(AlertEvent), self.events)
        enqueue_many(session, subject=subjects.ALERTS_CHANGED, payloads=list(self.changes.values()))


def _fold_one(session: Session, d: Detection, key: str, state: _FoldState) -> Folded:
    alert = state.open_alerts.get(key)
    created = alert is None
    if alert is None:
        alert = Alert(
            org_id=d.org,
            dedup_key=key,
            producer=d.producer,
            rule_id=d.rule_id[:100],
            rule_title=d.rule_title[:300],
            severity=d.severity.value,
            status=AlertStatus.NEW.value,
            count=0,
            first_seen=started(d),
            last_seen=d.timestamp,
            entities=dict(d.entities),
            tags=list(d.tags),
            description=d.description,
            exercise_id=d.exercise_id,
        )
        session.add(alert)
        state.open_alerts[key] = alert
        state.stored_events[alert] = 0
    alert.count += max(1, len(d.events))
    alert.first_seen = min(alert.first_seen, started(d))
    alert.last_seen = max(alert.last_seen, d.timestamp)
    if Severity.parse(alert.severity).rank < d.severity.rank:
        alert.severity = d.severity.value
    return Folded(alert, created)


def _trim(event: Event) -> Event:
    raw = event.get(RAW)
    if isinstance(raw, str) and len(raw) > MAX_EVENT_RAW:
        return {**event, RAW: raw[:MAX_EVENT_RAW] + "…"}
    return event


def _count(session: Session, d: Detection, state: _FoldState) -> None:
    slot = (d.timestamp.date(), d.org, category_of(d))
    row = state.daily.get(slot)
    if row is None:
        row = session.scalar(
            select(DailyCount).where(
                DailyCount.day == slot[0],
                DailyCount.org_id == d.org,
                DailyCount.category == slot[2],
                DailyCount.demo.is_(False),
            )
        )
        if row is None:
            row = DailyCount(day=slot[0], org_id=d.org, category=slot[2], count=0, demo=False)
            session.add(row)
        state.daily[slot] = row
    row.count += max(1, len(d.events))


# --- reading -------------------------------------------------------------------------------------------


def _visible(principal: Principal) -> Select[Alert]:
    query = select(Alert)
    orgs = principal.require_any("alerts.view")
    if orgs is not None:
        query = query.where(Alert.org_id.in_(orgs))
    return query


def list_(session: Session, *, principal: Principal, filters: AlertFilter) -> tuple[Sequence[Alert], int]:
    query = _visible(principal)
    if filters.org:
        query = query.where(Alert.org_id == org_slug(filters.org))
    if filters.status:
        query = query.where(Alert.status == filters.status.value)
    if filters.min_severity:
        wanted = [s.value for s in Severity if s.rank >= filters.min_severity.rank]
        query = query.where(Alert.severity.in_(wanted))
    if filters.rule_id:
        query = query.where(Alert.rule_id == filters.rule_id)
    if filters.since:
        query = query.where(Alert.last_seen >= filters.since)
    if filters.assignee:
        query = query.where(_assigned_to(principal, filters.assignee))
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Alert.rule_title.ilike(pattern, escape="\\"),
                cast(Alert.entities, Text).ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(filters.limit).offset(filters.offset)
    ).all()
    return rows, total


def _assigned_to(principal: Principal, wanted: str) -> ColumnElement[bool]:
    """'none' (nobody), 'me' (the caller) or a user id. Only narrows what the caller already sees."""
    if wanted == "none":
        return Alert.assignee_id.is_(None)
    if wanted == "me":
        if principal.user_id is None:
            raise ValidationFailed(_("an API token is not a person: 'me' needs a console user"), where="assignee")
        return Alert.assignee_id == principal.user_id
    return Alert.assignee_id == int(wanted)


def get(session: Session, *, principal: Principal, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not principal.can("alerts.view", alert.org_id):
        raise NotFound(f"alert {alert_id} not found")
    return alert


def events_of(session: Session, *, principal: Principal, alert_id: int) -> list[Event]:
    alert = get(session, principal=principal, alert_id=alert_id)
    rows = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))
    return [row.event for row in rows]


def comments_of(session: Session, *, principal: Principal, alert_id: int) -> Sequence[AlertComment]:
    alert = get(session, principal=principal, alert_id=alert_id)
    return session.scalars(
        select(AlertComment).where(AlertComment.alert_id == alert.id).order_by(AlertComment.id)
    ).all()


# --- triage --------------------------------------------------------------------------------------------


def get_to_triage(session: Session, *, principal: Principal, alert_id: int) -> Alert:
    """An alert the caller may triage (e.g. to show the confirmation page before closing it)."""
    alert = get(session, principal=principal, alert_id=alert_id)
    principal.require("alerts.triage", alert.org_id)
    return alert


def assignees_for(session: Session, *, principal: Principal, alert_id: int) -> Sequence[User]:
    """The people this alert may be given to: whoever may triage its organisation (national analysts, that
    ministry's officers...), and only for a caller who may triage it."""
    alert = get_to_triage(session, principal=principal, alert_id=alert_id)
    return holders_of(session, action="alerts.triage", orgs=frozenset({alert.org_id}))


def triagers(session: Session, *, principal: Principal) -> Sequence[User]:
    """The people who may triage alerts the caller sees: the choices of the list's assignee filter and of a
    bulk assignment (each alert still checks its own assignee)."""
    orgs = principal.visible_orgs("alerts.view")
    if orgs is not None and not orgs:
        return []
    return holders_of(session, action="alerts.triage", orgs=orgs)


def people_named(session: Session, *, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of assignees (a person's name, else their username), for showing who holds an alert."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(wanted)))
    return {user_id: display or username for user_id, display, username in rows}


def triage(session: Session, *, principal: Principal, alert_id: int, action: TriageAction, bulk: bool = False) -> Alert:
    alert = get(session, principal=principal, alert_id=alert_id)
    principal.require("alerts.triage", alert.org_id)
    details: dict[str, object] = {"bulk": True} if bulk else {}
    if action.action == "acknowledge":
        _require_status(alert, {AlertStatus.NEW})
        alert.status = AlertStatus.ACKNOWLEDGED.value
    elif action.action == "assign":
        details["assignee_id"] = alert.assignee_id = _assignable(session, alert, action.assignee_id)
    elif action.action == "close":
        _require_status(alert, {AlertStatus.NEW, AlertStatus.ACKNOWLEDGED})
        if action.resolution is None:
            raise ValidationFailed(_("closing needs a resolution"), where="resolution")
        # Closing takes the alert off everyone's queue: the reason (the comment) is required and audited.
        details["reason"] = audit.require_reason(action.comment, doing=_("closing an alert"), where="comment")
        alert.status, alert.resolution = AlertStatus.CLOSED.value, action.resolution.value
        details["resolution"] = action.resolution.value
    elif action.action == "reopen":
        _require_status(alert, {AlertStatus.CLOSED})
        alert.status, alert.resolution = AlertStatus.ACKNOWLEDGED.value, None
    if action.comment:
        session.add(AlertComment(alert_id=alert.id, author=principal.name, body=action.comment))
        details["comment"] = action.comment[:500]
    elif action.action == "comment":
        raise ValidationFailed("a comment needs text", where="comment")
    audit.record(
        session,
        actor=principal.name,
        action=f"alert.{action.action}",
        object_type="alert",
        object_id=alert.id,
        org_id=alert.org_id,
        details=details,
    )
    enqueue(
        session,
        subject=subjects.ALERTS_CHANGED,
        payload={"alert_id": alert.id, "org": alert.org_id, "change": action.action},
    )
    return alert


def bulk_triage(session: Session, *, principal: Principal, request: BulkTriage) -> BulkResult:
    """The same action on many alerts. Each alert is checked (visibility, permission, state) and changed or
    refused on its own, and audited on its own; a refusal never undoes the others. A caller who may triage
    nowhere (an ingest token, an auditor) is refused as a whole."""
    principal.require_any("alerts.triage")
    if request.action == "close" and request.resolution is None:
        raise ValidationFailed(_("closing needs a resolution"), where="resolution")
    if request.action == "close" and not (request.comment or "").strip():
        raise ValidationFailed(_("closing several alerts at once needs a reason"), where="comment")
    action = TriageAction.model_validate(request.model_dump(exclude={"ids"}))
    results = [_triage_one(session, principal, alert_id, action) for alert_id in dict.fromkeys(request.ids)]
    done = sum(1 for r in results if r.ok)
    return BulkResult(done=done, failed=len(results) - done, results=results)


def _triage_one(session: Session, principal: Principal, alert_id: int, action: TriageAction) -> BulkOutcome:
    # No savepoint around each alert: `triage` refuses (raises) before it changes anything, so a refused alert
    # leaves nothing behind; and on SQLite a SAVEPOINT opens a deferred transaction whose reads pin a snapshot,
    # so its first write fails at once ("database is locked") when a worker committed in between.
    try:
        alert = triage(session, principal=principal, alert_id=alert_id, action=action, bulk=True)
    except MamoriError as exc:
        return BulkOutcome(id=alert_id, ok=False, error=type(exc).__name__, message=exc.message)
    return BulkOutcome(id=alert.id, ok=True, status=alert.status)


def _require_status(alert: Alert, allowed: set[AlertStatus]) -> None:
    if AlertStatus(alert.status) not in allowed:
        raise Conflict(f"alert {alert.id} is {alert.status}; this action needs {sorted(a.value for a in allowed)}")


def _assignable(session: Session, alert: Alert, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or not principal_for(session, user).can("alerts.triage", alert.org_id):
        raise ValidationFailed(f"user {user_id} cannot work on this alert", where="assignee_id")
    return user.id


def open_for_keys(session: Session, keys: Iterable[str]) -> list[Alert]:
    """The open alerts that detections with these keys were folded into."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    query = (
        select(Alert)
        .join(AlertDetection, AlertDetection.alert_id == Alert.id)
        .where(AlertDetection.key.in_(wanted), Alert.status != AlertStatus.CLOSED.value)
        .distinct()
    )
    return list(session.scalars(query).all())


def close_by_producer(session: Session, *, alert: Alert, resolution: Resolution, note: str, actor: str) -> Alert:
    """Close an alert whose condition ended by itself (a site answering again), with a comment saying why."""
    if alert.status == AlertStatus.CLOSED.value:
        return alert
    alert.status, alert.resolution = AlertStatus.CLOSED.value, resolution.value
    session.add(AlertComment(alert_id=alert.id, author=actor, body=note))
    audit.record(
        session,
        actor=actor,
        action="alert.close",
        object_type="alert",
        object_id=alert.id,
        org_id=alert.org_id,
        details={"resolution": resolution.value, "comment": note[:500], "automatic": True},
    )
    enqueue(
        session, subject=subjects.ALERTS_CHANGED, payload={"alert_id": alert.id, "org": alert.org_id, "change": "close"}
    )
    return alert


def close_as(resolution: Resolution, *, reason: str) -> TriageAction:
    return TriageAction(action="close", resolution=resolution, comment=reason)
