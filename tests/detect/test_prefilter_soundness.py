"""Routing and the literal prefilter only narrow: on real events, the engine's verdicts equal evaluating every
compiled rule of the whole SigmaHQ set on every event (a sample of EVTX-ATTACK-SAMPLES)."""

from __future__ import annotations

import pytest

from mamori.detect.engine import Engine
from mamori.detect.views import flatten, views
from mamori.ingest.parsers.windows import EvtxParser
from tests.detect.conftest import EAS, need

# one xdist worker loads the SigmaHQ set for all the tests that need it
pytestmark = pytest.mark.xdist_group("sigmahq")


@pytest.mark.shared_data
def test_engine_equals_brute_force(sigmahq_engine: Engine) -> None:
    events = []
    for path in sorted(need(EAS).rglob("*.evtx")):
        events.extend(e for e in EvtxParser().parse_file(str(path), origin=str(path)) if isinstance(e, dict))
    sample = events[::24]
    rules = sigmahq_engine.rules
    disagreements = []
    for event in sample:
        flat = flatten(event)
        _, low = views(flat)  # every field, not just those the bucket's rules read
        brute = {rules.plans[i].rule_id for i, check in enumerate(rules.predicates) if check(low, flat)}
        fast = {plan.rule_id for plan in sigmahq_engine.evaluate(event)}
        if brute != fast:
            disagreements.append((event.get("EventRecordID"), sorted(brute ^ fast)))
    assert len(sample) > 300
    assert disagreements == []
