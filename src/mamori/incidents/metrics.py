"""Response metrics: time to acknowledge, to contain and to recover, against SLA targets per severity.

Clocks start at `detected_at` (the first alert, or creation for a hand-made incident). Acknowledge stops at the
first acknowledgement or phase change, contain when eradication starts, recover when post-incident starts. An
open clock that has passed its target is a breach already, so the board can warn before the incident moves.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.accounts.service import org_slug
from mamori.core.severity import Severity
from mamori.incidents import access, notifications, timeline
from mamori.incidents.enums import EntryKind, Phase, Resolution
from mamori.incidents.models import Incident, SlaBreach

METRICS = ("acknowledge", "contain", "recover")
_H = timedelta(hours=1)

# Targets per severity: (acknowledge, contain, recover).
SLA: Mapping[Severity, tuple[timedelta, timedelta, timedelta]] = {
    Severity.CRITICAL: (timedelta(minutes=15), 4 * _H, 24 * _H),
    Severity.HIGH: (timedelta(minutes=30), 8 * _H, 72 * _H),
    Severity.MEDIUM: (4 * _H, 24 * _H, 7 * 24 * _H),
    Severity.LOW: (24 * _H, 72 * _H, 30 * 24 * _H),
    Severity.INFORMATIONAL: (72 * _H, 14 * 24 * _H, 60 * 24 * _H),
}


@dataclass(frozen=True)
class Clock:
    metric: str
    target: timedelta
    elapsed: timedelta | None  # None: not reached, and the incident no longer runs this clock
    stopped: bool  # the milestone was reached

    @property
    def breached(self) -> bool:
        return self.elapsed is not None and self.elapsed > self.target


@dataclass(frozen=True)
class IncidentMetrics:
    incident_id: int
    clocks: tuple[Clock, ...]

    @property
    def breaches(self) -> list[str]:
        return [c.metric for c in self.clocks if c.breached]

    def clock(self, metric: str) -> Clock:
        return next(c for c in self.clocks if c.metric == metric)


class Clocked(Protocol):
    """What the clocks need of an incident: an `Incident`, or a `Times` row read without the ORM."""

    @property
    def id(self) -> int: ...
    @property
    def severity(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def resolution(self) -> str | None: ...
    @property
    def detected_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def contained_at(self) -> datetime | None: ...
    @property
    def recovered_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Times:
    id: int
    org_id: str
    category: str
    severity: str
    phase: str
    resolution: str | None
    detected_at: datetime
    acknowledged_at: datetime | None
    contained_at: datetime | None
    recovered_at: datetime | None


TIME_COLUMNS = (
    Incident.id,
    Incident.org_id,
    Incident.category,
    Incident.severity,
    Incident.phase,
    Incident.resolution,
    Incident.detected_at,
    Incident.acknowledged_at,
    Incident.contained_at,
    Incident.recovered_at,
)


def _milestones(incident: Clocked) -> tuple[datetime | None, datetime | None, datetime | None]:
    return incident.acknowledged_at, incident.contained_at, incident.recovered_at


def for_incident(incident: Clocked, now: datetime) -> IncidentMetrics:
    targets = SLA[Severity.parse(incident.severity)]
    running = incident.phase != Phase.CLOSED.value
    not_real = incident.resolution is not None and incident.resolution != Resolution.RESOLVED.value
    clocks = []
    for metric, target, reached in zip(METRICS, targets, _milestones(incident), strict=True):
        if reached is not None:
            elapsed: timedelta | None = reached - incident.detected_at
        elif running and not not_real:
            elapsed = now - incident.detected_at
        else:
            elapsed = None  # closed as a false positive before reaching it: the clock does not count
        clocks.append(Clock(metric, target, elapsed, reached is not None))
    return IncidentMetrics(incident.id, tuple(clocks))


@dataclass
class Aggregate:
    org_id: str
    category: str
    month: str  # YYYY-MM of detection
    incidents: int = 0
    breaches: int = 0
    durations: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METRICS})

    def median_hours(self, metric: str) -> float | None:
        values = self.durations[metric]
        return round(statistics.median(values) / 3600, 2) if values else None


def aggregate(
    session: Session, *, principal: Principal, since: datetime, now: datetime, org: str | None = None
) -> list[Aggregate]:
    """Per organisation, category and month: incidents, SLA breaches, median hours per stopped clock."""
    # Columns only, no ORM objects: a year of a busy centre is tens of thousands of incidents.
    query = access.visible_query(principal).with_only_columns(*TIME_COLUMNS).where(Incident.detected_at >= since)
    if org:
        query = query.where(Incident.org_id == org_slug(org))
    groups: dict[tuple[str, str, str], Aggregate] = {}
    for row in session.execute(query.limit(200_000)):
        times = Times(**row._mapping)
        key = (times.org_id, times.category, times.detected_at.strftime("%Y-%m"))
        agg = groups.setdefault(key, Aggregate(*key))
        agg.incidents += 1
        m = for_incident(times, now)
        agg.breaches += bool(m.breaches)
        for clock in m.clocks:
            if clock.stopped and clock.elapsed is not None:
                agg.durations[clock.metric].append(clock.elapsed.total_seconds())
    return sorted(groups.values(), key=lambda a: (a.month, a.org_id, a.category), reverse=True)


@dataclass(frozen=True)
class Scan:
    breaches: list[tuple[int, str]]  # (incident id, metric) newly recorded
    next_after_id: int | None  # where the next batch starts; None when every open incident was seen


def scan_breaches(session: Session, *, now: datetime, after_id: int = 0, batch: int = 1000) -> Scan:
    """Record (once) and announce every new breach on one batch of open incidents (ids above `after_id`).
    Run periodically by a worker, which walks the batches with `next_after_id`."""
    found = []
    # Once "recover" (the longest clock) has breached, no new breach can come: skip those incidents.
    done = select(SlaBreach.id).where(SlaBreach.incident_id == Incident.id, SlaBreach.metric == "recover")
    query = (
        select(Incident)
        .where(Incident.phase != Phase.CLOSED.value, Incident.id > after_id, ~done.exists())
        .order_by(Incident.id)
        .limit(batch)
    )
    open_incidents: Sequence[Incident] = session.scalars(query).all()
    known = _known(session, [i.id for i in open_incidents])
    for incident in open_incidents:
        for metric in for_incident(incident, now).breaches:
            if (incident.id, metric) in known:
                continue
            _announce(session, incident, metric)
            found.append((incident.id, metric))
    return Scan(found, open_incidents[-1].id if len(open_incidents) == batch else None)


def _known(session: Session, ids: Iterable[int]) -> set[tuple[int, str]]:
    rows = session.execute(select(SlaBreach.incident_id, SlaBreach.metric).where(SlaBreach.incident_id.in_(list(ids))))
    return {(i, m) for i, m in rows.tuples()}


def _announce(session: Session, incident: Incident, metric: str) -> None:
    session.add(SlaBreach(incident_id=incident.id, metric=metric))
    text = f"SLA breached: time to {metric} exceeded the {incident.severity} target"
    timeline.record(session, incident=incident, kind=EntryKind.STATUS, actor="system", text=text)
    access.changed(session, principal=None, incident=incident, action="incident.sla_breach", details={"metric": metric})
    notifications.notify(
        session,
        event="sla.breach",
        subject=f"[mamori] SLA breach on incident {incident.id}: {metric}",
        body=f"{text}. Incident {incident.id} ({incident.org_id}): {incident.title}",
        org_id=incident.org_id,
        incident_id=incident.id,
        user_ids=[incident.lead_id],
    )
