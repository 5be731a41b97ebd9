"""mamori's own rules: every rule file has a ``.tests.yml`` beside it with positive and negative samples.

One test runs them all (one parametrised case per sample stream); a rule without samples fails the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mamori.detect.engine import CONTENT_RULES, Engine
from mamori.detect.loader import rule_files

START = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _seconds(spec: str) -> float:
    for unit in ("ms", "s", "m", "h"):
        if spec.endswith(unit) and spec[: -len(unit)].isdigit():
            return int(spec[: -len(unit)]) * _UNITS[unit]
    raise ValueError(f"bad duration {spec!r}")


def expand(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sample streams: plain events, or {repeat, every, vary, event} blocks; timestamps filled in order."""
    out: list[dict[str, Any]] = []
    clock = START
    for item in items:
        if "repeat" not in item:
            event = dict(item)
            event.setdefault("@timestamp", clock.isoformat().replace("+00:00", "Z"))
            clock += timedelta(seconds=1)
            out.append(event)
            continue
        step = timedelta(seconds=_seconds(item.get("every", "1s")))
        for i in range(int(item["repeat"])):
            event = dict(item["event"])
            event.update({k: v.format(i=i) for k, v in (item.get("vary") or {}).items()})
            event["@timestamp"] = clock.isoformat().replace("+00:00", "Z")
            clock += step
            out.append(event)
    return out


def _cases() -> list[Any]:
    cases = []
    for tests in sorted(CONTENT_RULES.rglob("*.tests.yml")):
        for doc in yaml.safe_load_all(tests.read_text(encoding="utf-8")):
            for verdict in ("positive", "negative"):
                for case in doc.get(verdict) or []:
                    name = f"{tests.name}:{verdict}:{case['name']}"
                    cases.append(pytest.param(doc["rule_id"], verdict == "positive", case["events"], id=name))
    return cases


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine([CONTENT_RULES], cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(("rule_id", "expected", "events"), _cases())
def test_rule_samples(engine: Engine, rule_id: str, expected: bool, events: list[dict[str, Any]]) -> None:
    engine.reload()  # fresh correlation state for every stream
    stream = expand(events)
    detections = engine.match(stream, org="test")
    hit_ids = {d.rule_id for d in detections} | {p.rule_id for e in stream for p in engine.evaluate(e)}
    assert (rule_id in hit_ids) is expected, f"{rule_id} {'missed' if expected else 'fired'}"


def test_every_rule_has_samples_and_loads(engine: Engine) -> None:
    assert engine.refused == []
    tested = {doc["rule_id"] for t in CONTENT_RULES.rglob("*.tests.yml") for doc in yaml.safe_load_all(t.read_text())}
    ids = {p.rule_id for p in engine.rules.plans} | {c.rule_id for c in engine.correlations.rules}
    assert ids, "no content rules loaded"
    assert ids <= tested, f"rules without samples: {sorted(ids - tested)}"
    for path in rule_files([CONTENT_RULES]):
        assert Path(str(path).removesuffix(".yml") + ".tests.yml").exists(), f"no samples beside {path}"
