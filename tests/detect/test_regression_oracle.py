"""Oracle 1: SigmaHQ regression data. Each test names a rule that must match its EVTX file (and the JSON twin
of the same events) at least ``match_count`` times, with the whole SigmaHQ set loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mamori.detect.engine import Engine
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.windows import EvtxParser, WindowsJsonParser
from tests.detect.conftest import REGRESSION

# one xdist worker loads the SigmaHQ set for all the tests that need it
pytestmark = pytest.mark.xdist_group("sigmahq")


def _tests() -> list[Any]:
    if not REGRESSION.is_dir():
        return [pytest.param(None, None, 0, "", marks=pytest.mark.skip(reason="no regression data"))]
    out = []
    for info in sorted(REGRESSION.rglob("info.yml")):
        meta = yaml.safe_load(info.read_text(encoding="utf-8"))
        rule_id = meta["rule_metadata"][0]["id"]
        for test in meta.get("regression_tests_info") or []:
            evtx = info.parent / Path(test["path"]).name
            for kind in ("evtx", "json"):
                name = f"{info.parent.name}:{kind}"
                out.append(
                    pytest.param(evtx.with_suffix("." + kind), rule_id, test.get("match_count", 1), kind, id=name)
                )
    return out


@pytest.mark.shared_data
@pytest.mark.parametrize(("path", "rule_id", "minimum", "kind"), _tests())
def test_regression(sigmahq_engine: Engine, path: Path, rule_id: str, minimum: int, kind: str) -> None:
    parser = EvtxParser() if kind == "evtx" else WindowsJsonParser()
    matched = 0
    for item in parser.parse(path.read_bytes(), origin=str(path)):
        assert not isinstance(item, ParseFailure), item.reason
        if any(plan.rule_id == rule_id for plan in sigmahq_engine.evaluate(item)):
            matched += 1
    assert matched >= minimum, f"{rule_id} matched {matched} of the required {minimum}"


@pytest.mark.shared_data
def test_sigmahq_refusals_are_few_and_explained(sigmahq_engine: Engine) -> None:
    """The share of SigmaHQ rules that cannot run stays tiny, each for a documented reason."""
    allowed = ("is not mapped by any pipeline", "placeholder %")
    assert len(sigmahq_engine.refused) <= 0.01 * sigmahq_engine.rule_count
    for refusal in sigmahq_engine.refused:
        assert any(a in refusal.reason for a in allowed), refusal
