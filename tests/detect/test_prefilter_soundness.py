"""The literal prefilter only narrows: on real events, the engine's verdicts equal evaluating every compiled rule
of the event's route (its whole bucket, triggers ignored) of the whole SigmaHQ set (a sample of
EVTX-ATTACK-SAMPLES). Routing itself is exact by construction (predicates leave the route tests to it): the
regression and differential oracles check it end to end, tests/detect/test_routing.py on odd values."""

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
        members = rules.bucket(flat).members
        brute = {rules.plans[i].rule_id for i in members if rules.predicates[i](low, flat)}
        fast = {plan.rule_id for plan in sigmahq_engine.evaluate(event)}
        if brute != fast:
            disagreements.append((event.get("EventRecordID"), sorted(brute ^ fast)))
    assert len(sample) > 300
    assert disagreements == []
