"""Check results become Detections with stable per-episode keys; problems resolve when they go away."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mamori.core.severity import Severity
from mamori.websites.detections import WatchState, evaluate
from mamori.websites.dnsfacts import DNSFacts
from mamori.websites.integrity import Baseline, assess
from mamori.websites.results import CheckResult, FailureKind
from mamori.websites.schemas import SiteExpectations

from .pages import ministry_page

SITE = SiteExpectations(site_id="moi", org="interior", url="https://www.moi.example/", failures_before_alert=2)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BASELINE = Baseline.approve(ministry_page(), url=SITE.url)


def ok(i: int, html: str | None = None, **kw: object) -> CheckResult:
    verdict = assess(BASELINE, html or ministry_page())
    at = T0 + timedelta(minutes=i)
    return CheckResult(
        site_id="moi", org="interior", url=SITE.url, checked_at=at, up=True, status=200, verdict=verdict,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def down(i: int) -> CheckResult:
    return CheckResult(
        site_id="moi", org="interior", url=SITE.url, checked_at=T0 + timedelta(minutes=i), up=False,
        failure=FailureKind.CONNECT, error="connection refused",
    )  # fmt: skip


def feed(results: list[CheckResult]) -> list[tuple[list[str], list[str], tuple[str, ...]]]:
    state, out = WatchState(), []
    for r in results:
        outcome = evaluate(SITE, r, state)
        state = outcome.state
        out.append(([d.rule_id for d in outcome.detections], [d.key for d in outcome.detections], outcome.resolved))
    return out


def test_down_after_threshold_with_one_key_per_outage() -> None:
    steps = feed([ok(0), down(1), down(2), down(3), ok(4), down(5), down(6)])
    assert [s[0] for s in steps] == [[], [], ["website.down"], ["website.down"], [], [], ["website.down"]]
    first, repeat, second = steps[2][1][0], steps[3][1][0], steps[6][1][0]
    assert first == repeat != second
    assert steps[4][2] == (first,)  # recovery resolves the outage's key


def test_defacement_detection_content() -> None:
    defaced = "<html><head><title>Hacked by X</title></head><body><h1>Hacked by X</h1></body></html>"
    outcome = evaluate(SITE, ok(0, defaced), WatchState())
    (d,) = outcome.detections
    assert d.producer == "website" and d.rule_id == "website.defaced" and d.severity is Severity.CRITICAL
    assert d.org == "interior" and d.entities["url"] == SITE.url and d.entities["host"] == "www.moi.example"
    assert "Hacked by X" in d.description and d.events[0]["score"] is not None
    assert "attack.t1491.002" in d.tags


def test_defaced_site_going_down_stays_defaced_until_seen_clean() -> None:
    defaced = "<html><head><title>Hacked by X</title></head><body><h1>Hacked by X</h1></body></html>"
    steps = feed([ok(0, defaced), down(1), ok(2, defaced), ok(3)])
    assert steps[1][2] == () and steps[2][1] == steps[0][1]  # same episode after the outage
    assert steps[3][2] == tuple(steps[0][1])  # resolved once a clean page is seen


def test_foreign_script_tls_and_dns_kinds() -> None:
    injected = ministry_page(inject_head='<script src="https://miner.example/x.js"></script>')
    result = ok(
        0,
        injected,
        tls_problems=("certificate expires in 3 days (2026-11-26)",),
        dns=DNSFacts(a=("203.0.113.9",)),
        dns_problems=("A answers changed: expected 1.2.3.4, got 203.0.113.9",),
    )
    rules = sorted(d.rule_id for d in evaluate(SITE, result, WatchState()).detections)
    assert rules == ["website.dns_changed", "website.foreign_script", "website.tls_expiring"]


def test_expired_certificate_is_high() -> None:
    result = ok(0, tls_problems=("certificate expired on 2026-11-01",))
    (d,) = evaluate(SITE, result, WatchState()).detections
    assert d.rule_id == "website.tls_expiring" and d.severity is Severity.HIGH


def test_keys_are_stable_across_runs_and_exercise_id_passes_through() -> None:
    defaced = "<html><head><title>Hacked by X</title></head><body><h1>Hacked by X</h1></body></html>"
    a = evaluate(SITE, ok(0, defaced), WatchState(), exercise_id="ex-1").detections[0]
    b = evaluate(SITE, replace(ok(5, defaced)), WatchState(), exercise_id="ex-1").detections[0]
    assert a.key == b.key and a.exercise_id == "ex-1"


def test_state_round_trips_through_json() -> None:
    import json

    state = WatchState()
    for r in [ok(0), down(1), down(2)]:
        state = evaluate(SITE, r, state).state
    again = WatchState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state or (again.to_dict() == state.to_dict())
    assert evaluate(SITE, down(3), again).detections[0].key == evaluate(SITE, down(3), state).detections[0].key
