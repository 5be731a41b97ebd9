"""The availability state machine, uptime and latency history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mamori.websites.availability import AvailabilityState, Sample, Transition, latency_history, step, uptime
from mamori.websites.enums import Availability

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def run(outcomes: str, threshold: int = 3) -> list[tuple[AvailabilityState, Transition | None]]:
    state, out = AvailabilityState(), []
    for i, c in enumerate(outcomes):
        state, transition = step(state, ok=c == "+", at=T0 + timedelta(minutes=i), threshold=threshold, error="x")
        out.append((state, transition))
    return out


def test_alerts_only_after_n_consecutive_failures() -> None:
    states = run("+--+---")
    assert [s.status for s, _ in states] == [
        Availability.UP, Availability.FAILING, Availability.FAILING, Availability.UP,
        Availability.FAILING, Availability.FAILING, Availability.DOWN,
    ]  # fmt: skip
    assert [t for _, t in states] == [None] * 6 + [Transition.WENT_DOWN]
    assert states[-1][0].episode == 1 and states[-1][0].since == T0 + timedelta(minutes=6)


def test_resolves_itself_and_counts_episodes() -> None:
    states = run("---+--+---", threshold=2)
    transitions = [t for _, t in states]
    assert transitions.count(Transition.WENT_DOWN) == 3 and transitions.count(Transition.RECOVERED) == 2
    assert states[3][1] is Transition.RECOVERED and states[3][0].status is Availability.UP
    assert [s.episode for s, _ in states] == [0, 1, 1, 1, 1, 2, 2, 2, 3, 3]


def test_threshold_one_alerts_at_once() -> None:
    ((state, transition),) = run("-", threshold=1)
    assert state.status is Availability.DOWN and transition is Transition.WENT_DOWN


def test_uptime_is_time_weighted() -> None:
    samples = [
        Sample(T0, True),
        Sample(T0 + timedelta(minutes=30), False),
        Sample(T0 + timedelta(minutes=45), True),
    ]
    assert uptime(samples, start=T0, end=T0 + timedelta(hours=1)) == 75.0
    assert uptime([], start=T0, end=T0 + timedelta(hours=1)) is None
    # the state before the window carries into it
    earlier = [Sample(T0 - timedelta(minutes=5), False), Sample(T0 + timedelta(minutes=30), True)]
    assert uptime(earlier, start=T0, end=T0 + timedelta(hours=1)) == 50.0


def test_latency_history_percentiles_per_bucket() -> None:
    samples = [Sample(T0 + timedelta(minutes=i), True, float(i + 1)) for i in range(20)]
    samples.append(Sample(T0 + timedelta(minutes=3), False, 9999.0))  # failures do not count
    points = latency_history(samples, bucket=timedelta(minutes=10), origin=T0)
    assert [p.count for p in points] == [10, 10]
    assert points[0].p50 == 5.0 and points[0].p95 == 10.0 and points[1].max == 20.0
    assert points[1].start == T0 + timedelta(minutes=10)
