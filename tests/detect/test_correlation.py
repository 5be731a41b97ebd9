"""Correlations on constructed event streams: windows, group-by, ordering, bounded state, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mamori.detect import correlation
from mamori.detect.engine import Engine
from tests.detect.conftest import SHARED, need

BASE = """title: failed
id: 10000000-0000-4000-8000-000000000001
name: failed
logsource: {category: webserver}
detection: {sel: {action: fail}, condition: sel}
---
title: ok
id: 10000000-0000-4000-8000-000000000002
name: ok
logsource: {category: webserver}
detection: {sel: {action: ok}, condition: sel}
---
title: probe
id: 10000000-0000-4000-8000-000000000003
name: probe
logsource: {category: webserver}
detection: {sel: {action: probe}, condition: sel}
"""


def corr(body: str, cid: str = "20000000-0000-4000-8000-000000000001") -> str:
    return f"---\ntitle: correlation\nid: {cid}\ncorrelation:\n{body}level: high\n"


def engine_with(tmp_path: Path, *bodies: str) -> Engine:
    (tmp_path / "rules.yml").write_text(BASE + "".join(bodies))
    return Engine([tmp_path / "rules.yml"])


def stream(*items: tuple[float, str, dict[str, Any]]) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "source": "webserver",
            "action": action,
            "@timestamp": (start + timedelta(seconds=t)).isoformat(),
            **fields,
        }
        for t, action, fields in items
    ]


def fired(engine: Engine, events: list[dict[str, Any]]) -> list[str]:
    return [d.rule_id for d in engine.match(events) if d.producer == "correlation"]


EVENT_COUNT = corr("  type: event_count\n  rules: [failed]\n  group-by: [ip]\n  timespan: 60s\n  condition: {gte: 3}\n")


def test_event_count_fires_once_per_burst(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EVENT_COUNT)
    events = stream(*[(i, "fail", {"ip": "a"}) for i in range(5)])
    assert len(fired(engine, events)) == 1


def test_event_count_respects_window_and_group(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EVENT_COUNT)
    slow = stream(*[(i * 40, "fail", {"ip": "a"}) for i in range(6)])  # never 3 within 60 s
    split = stream(*[(i, "fail", {"ip": f"h{i % 3}"}) for i in range(6)])  # 2 per group
    assert fired(engine, slow) == []
    assert fired(engine, split) == []


def test_base_rules_of_a_correlation_are_not_reported_alone(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, EVENT_COUNT)
    detections = engine.match(stream((0, "fail", {"ip": "a"}), (1, "ok", {"ip": "a"})))
    assert [d.rule_title for d in detections] == ["ok"]


def test_value_count(tmp_path: Path) -> None:
    body = corr(
        "  type: value_count\n  rules: [failed]\n  group-by: [ip]\n  timespan: 10m\n"
        "  condition: {gte: 3, field: user}\n"
    )
    engine = engine_with(tmp_path, body)
    same_user = stream(*[(i, "fail", {"ip": "a", "user": "u"}) for i in range(10)])
    spray = stream(*[(i, "fail", {"ip": "b", "user": f"u{i}"}) for i in range(3)])
    assert fired(engine, same_user) == []
    assert len(fired(engine, spray)) == 1


def test_temporal_any_order(tmp_path: Path) -> None:
    body = corr("  type: temporal\n  rules: [failed, probe]\n  group-by: [ip]\n  timespan: 30s\n")
    engine = engine_with(tmp_path, body)
    assert len(fired(engine, stream((0, "probe", {"ip": "a"}), (5, "fail", {"ip": "a"})))) == 1
    engine.reload()
    assert fired(engine, stream((0, "probe", {"ip": "a"}), (50, "fail", {"ip": "a"}))) == []
    engine.reload()
    assert fired(engine, stream((0, "probe", {"ip": "a"}), (5, "fail", {"ip": "b"}))) == []


def test_temporal_ordered_with_aliases(tmp_path: Path) -> None:
    body = corr(
        "  type: temporal_ordered\n  rules: [failed, ok]\n  group-by: [who]\n  timespan: 1h\n"
        "  aliases:\n    who:\n      failed: target\n      ok: user\n"
    )
    engine = engine_with(tmp_path, body)
    good = stream((0, "fail", {"target": "bob"}), (10, "ok", {"user": "bob"}))
    assert len(fired(engine, good)) == 1
    engine.reload()
    assert fired(engine, stream((0, "ok", {"user": "bob"}), (10, "fail", {"target": "bob"}))) == []
    engine.reload()
    assert fired(engine, stream((0, "fail", {"target": "bob"}), (10, "ok", {"user": "eve"}))) == []


def test_extended_temporal_condition(tmp_path: Path) -> None:
    body = corr(
        "  type: temporal\n  rules: [failed, ok]\n  group-by: [ip]\n  timespan: 1m\n  condition: failed and not ok\n"
    )
    engine = engine_with(tmp_path, body)
    assert len(fired(engine, stream((0, "fail", {"ip": "a"})))) == 1


def test_state_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(correlation, "MAX_GROUPS", 10)
    engine = engine_with(tmp_path, EVENT_COUNT)
    engine.match(stream(*[(i, "fail", {"ip": f"h{i}"}) for i in range(1000)]))
    (state,) = {id(s): s for states in engine.correlations._by_rule.values() for s in states}.values()
    assert len(state.groups) <= 10


def test_unsupported_condition_is_refused(tmp_path: Path) -> None:
    body = corr("  type: event_count\n  rules: [failed]\n  group-by: [ip]\n  timespan: 1m\n  condition: {lt: 3}\n")
    engine = engine_with(tmp_path, body)
    assert engine.correlations.rules == []
    assert any("window-end" in r.reason for r in engine.refused)


def test_unresolvable_reference_is_refused(tmp_path: Path) -> None:
    body = corr("  type: event_count\n  rules: [nowhere]\n  group-by: [ip]\n  timespan: 1m\n  condition: {gte: 3}\n")
    engine = engine_with(tmp_path, body)
    assert engine.correlations.rules == []
    assert any(r.reason.startswith("correlation:") for r in engine.refused)


@pytest.mark.shared_data
def test_sigma_correlation_samples_load_or_are_refused_with_a_reason() -> None:
    samples = need(SHARED / "sigma" / "correlation-samples")
    engine = Engine([samples])
    loaded = {c.title for c in engine.correlations.rules}
    assert len(loaded) >= 5
    for refusal in engine.refused:
        assert refusal.reason


def test_extended_condition_negation_blocks(tmp_path: Path) -> None:
    body = corr(
        "  type: temporal\n  rules: [failed, ok]\n  group-by: [ip]\n  timespan: 1m\n  condition: failed and ok\n"
    )
    engine = engine_with(tmp_path, body)
    assert fired(engine, stream((0, "fail", {"ip": "a"}))) == []
    assert len(fired(engine, stream((5, "ok", {"ip": "a"})))) == 1
