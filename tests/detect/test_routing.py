"""Routing is exact: predicates leave the Channel/EventID/source tests to the bucket an event is routed to
(``routing.without_routed``), so an event must reach a rule's bucket exactly when those tests would pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mamori.ingest.parsers.windows import UNROUTED, EvtxParser
from tests.detect.conftest import EAS, need
from tests.detect.helpers import engine_for, matches, rule_text

# one xdist worker loads the SigmaHQ set for all the tests that need it
pytestmark = pytest.mark.xdist_group("sigmahq")

SECURITY_4688 = "product: windows\n    service: security"


def _event(**fields: Any) -> dict[str, Any]:
    return {"Channel": "Security", "NewProcessName": "C:\\evil\\x.exe", "source": "windows", **fields}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    detection = "sel:\n  EventID: 4688\n  NewProcessName|endswith: '\\x.exe'\ncondition: sel"
    return engine_for(tmp_path_factory.mktemp("routing"), rule_text(detection, logsource=SECURITY_4688))


def test_the_generated_predicate_no_longer_tests_the_route(engine: Any) -> None:
    [plan] = engine.rules.plans
    assert "Channel" not in plan.code and "EventID" not in plan.code
    assert plan.route.event_ids == frozenset({4688})


@pytest.mark.parametrize("event_id", [4688, "4688"])
def test_canonical_event_ids_reach_the_rule(engine: Any, event_id: Any) -> None:
    assert matches(engine, _event(EventID=event_id))
    assert matches(engine, _event(EventID=event_id, Channel="SECURITY"))  # channel names are case-insensitive


@pytest.mark.parametrize("event_id", ["04688", " 4688", "4688 ", 4688.0, True, "٤٦٨٨", [4688], None, 4689])
def test_odd_event_ids_do_not(engine: Any, event_id: Any) -> None:
    assert not matches(engine, _event(EventID=event_id))


@pytest.mark.parametrize("channel", ["Security ", "Microsoft-Windows-Sysmon/Operational", ["Security"], None])
def test_other_channels_do_not(engine: Any, channel: Any) -> None:
    assert not matches(engine, _event(EventID=4688, Channel=channel))


def test_a_rule_with_a_non_canonical_event_id_keeps_its_own_test(tmp_path: Path) -> None:
    detection = "sel:\n  EventID: '04688'\n  NewProcessName|endswith: '\\x.exe'\ncondition: sel"
    engine = engine_for(tmp_path, rule_text(detection, logsource=SECURITY_4688))
    assert not matches(engine, _event(EventID=4688))  # "04688" as text never equals the event's 4688


def test_hunt_skips_only_records_no_rule_routes_to(engine: Any) -> None:
    """The reader's keep filter (hunt) drops exactly the records whose bucket is empty."""
    assert engine.applies("Security", 4688)
    assert engine.applies("security", "4688")
    assert not engine.applies("Security", 4624)
    assert not engine.applies("Microsoft-Windows-Sysmon/Operational", 1)
    assert not engine.applies(None, None)


@pytest.mark.shared_data
def test_routed_reading_keeps_every_record_a_rule_can_match(sigmahq_engine: Any) -> None:
    """On real files: records turned down unflattened are exactly those whose flattened bucket is empty."""
    for path in sorted(need(EAS).rglob("*.evtx"))[:60]:
        plain = list(EvtxParser().parse_file(str(path), origin=str(path)))
        routed = list(EvtxParser(keep=sigmahq_engine.applies).parse_routed(str(path), origin=str(path)))
        assert len(plain) == len(routed)
        for full, item in zip(plain, routed, strict=True):
            if item is UNROUTED:
                assert isinstance(full, dict) and sigmahq_engine.rules.bucket(full).empty
            else:
                assert item == full
