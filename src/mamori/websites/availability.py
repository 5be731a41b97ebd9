"""Availability: alert only after N consecutive failures, resolve by itself when the site answers again.

The state machine (one per site)::

    UNKNOWN ──ok──► UP ◄──────────── ok ───────────┐
       │            │ fail                          │
       └──fail──► FAILING ──fail × N (threshold)──► DOWN  (episode += 1: a new outage)
                    └──ok──► UP

A check that fails once (a dropped packet, a deploy) moves the site to FAILING, which does not alert; only
``failures_before_alert`` consecutive failures make it DOWN. Each DOWN is a new *episode*: its number goes
into the detection key, so repeated "still down" detections of one outage deduplicate into one alert and the
next outage opens a new one. Also here: uptime and latency history over stored check samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from mamori.websites.enums import Availability
from mamori.websites.results import CheckResult


class Transition(StrEnum):
    WENT_DOWN = "went_down"
    RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class AvailabilityState:
    status: Availability = Availability.UNKNOWN
    consecutive_failures: int = 0
    episode: int = 0  # number of the latest outage (DOWN episode) of this site
    since: datetime | None = None  # when the current status began
    last_error: str | None = None


def step(
    state: AvailabilityState, *, ok: bool, at: datetime, threshold: int, error: str | None = None
) -> tuple[AvailabilityState, Transition | None]:
    """Advance the state machine by one check result."""
    if ok:
        if state.status is Availability.UP:
            return state, None
        transition = Transition.RECOVERED if state.status is Availability.DOWN else None
        return AvailabilityState(Availability.UP, 0, state.episode, at, None), transition
    failures = state.consecutive_failures + 1
    if state.status is Availability.DOWN:
        return replace(state, consecutive_failures=failures, last_error=error), None
    if failures >= threshold:
        return AvailabilityState(Availability.DOWN, failures, state.episode + 1, at, error), Transition.WENT_DOWN
    since = state.since if state.status is Availability.FAILING else at
    return AvailabilityState(Availability.FAILING, failures, state.episode, since, error), None


# --- history ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sample:
    """The part of a stored check that history needs."""

    at: datetime
    up: bool
    latency_ms: float | None = None

    @classmethod
    def of(cls, result: CheckResult) -> Sample:
        return cls(result.checked_at, result.up, result.latency_ms)


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    start: datetime
    count: int
    p50: float
    p95: float
    max: float


def uptime(samples: Iterable[Sample], *, start: datetime, end: datetime) -> float | None:
    """Percentage of [start, end) the site was up, each check's outcome holding until the next check.

    Time before the first check in the window counts with the last check before it, if given; time no check
    covers at all is left out rather than guessed. None when nothing covers the window.
    """
    ordered = sorted(samples, key=lambda s: s.at)
    before = [s for s in ordered if s.at < start]
    inside = [s for s in ordered if start <= s.at < end]
    points = ([Sample(start, before[-1].up)] if before else []) + inside
    up_time = covered = 0.0
    if not points:
        return None
    ends = [p.at for p in points[1:]] + [end]
    for current, until in zip(points, ends, strict=True):
        seconds = (until - current.at).total_seconds()
        covered += seconds
        up_time += seconds if current.up else 0.0
    return round(100.0 * up_time / covered, 3) if covered > 0 else None


def latency_history(samples: Iterable[Sample], *, bucket: timedelta, origin: datetime) -> list[LatencyPoint]:
    """Latency percentiles per time bucket (successful checks only), buckets counted from ``origin``."""
    buckets: dict[int, list[float]] = {}
    for s in samples:
        if s.up and s.latency_ms is not None:
            buckets.setdefault(int((s.at - origin) / bucket), []).append(s.latency_ms)
    return [
        LatencyPoint(origin + n * bucket, len(v), _pct(v, 50), _pct(v, 95), max(v)) for n, v in sorted(buckets.items())
    ]


def _pct(values: Sequence[float], pct: int) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))  # nearest-rank
    return round(ordered[index], 2)
