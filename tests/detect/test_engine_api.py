"""The batch API the pipeline uses: Detection objects, error isolation, stats."""

from __future__ import annotations

from pathlib import Path

from mamori.core.severity import Severity
from mamori.detect.engine import entities as detection_entities
from tests.detect.helpers import engine_for, rule_text, web


def test_match_returns_detections(tmp_path: Path) -> None:
    engine = engine_for(
        tmp_path,
        rule_text("sel:\n  c-uri|contains: '/etc/passwd'\ncondition: sel", extra="tags:\n    - attack.t1190\n"),
    )
    event = web(
        **{
            "c-uri": "/x?f=../../etc/passwd",
            "c-ip": "198.51.100.4",
            "host": "www1",
            "org": "ministry-a",
            "@timestamp": "2026-11-23T10:00:00Z",
            "@id": "evt-1",
        }
    )
    [detection] = engine.match([event, web(**{"c-uri": "/"})], org="fallback")
    assert detection.producer == "sigma"
    assert detection.severity is Severity.HIGH
    assert detection.org == "ministry-a"
    assert detection.timestamp.isoformat() == "2026-11-23T10:00:00+00:00"
    assert detection.entities == {"host": "www1", "client_ip": "198.51.100.4", "url": "/x?f=../../etc/passwd"}
    assert detection.tags == ("attack.t1190",)
    assert detection.events == (event,)
    again = engine.match([event])[0]
    assert again.key == detection.key  # stable identity: a redelivered event never doubles an alert


def test_an_unreadable_event_is_counted_not_fatal(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f: a\ncondition: sel"))

    class Odd:  # a value that cannot even be turned into text
        def __str__(self) -> str:
            raise RuntimeError("boom")

    hits = engine.match([web(f=Odd()), web(f="a")])
    assert len(hits) == 1
    assert engine.stats()["bad_events"] == 1


def test_stats(tmp_path: Path) -> None:
    engine = engine_for(tmp_path, rule_text("sel:\n  f: a\ncondition: sel"))
    engine.match([web(f="a")])
    stats = engine.stats()
    assert stats["rules_loaded"] == 1 and stats["refused"] == 0
    assert sum(stats["hits"].values()) == 1


def test_network_addresses_become_entities(tmp_path: Path) -> None:
    """Suricata (src_ip/dst_ip) and Sysmon network events (SourceIp/DestinationIp) name both ends, so that
    alerts dedup per conversation rather than per sensor."""
    engine = engine_for(
        tmp_path,
        rule_text("sel:\n  alert.signature|contains: 'ET SCAN'\ncondition: sel", logsource="product: suricata"),
    )
    event = {
        "source": "suricata",
        "host": "sensor-1",
        "src_ip": "203.0.113.9",
        "dst_ip": "10.0.0.5",
        "alert": {"signature": "ET SCAN Nmap"},
    }
    [detection] = engine.match([event])
    assert detection.entities == {"host": "sensor-1", "src_ip": "203.0.113.9", "dst_ip": "10.0.0.5"}
    assert detection_entities({"SourceIp": "10.0.0.7", "DestinationIp": "198.51.100.2", "IpAddress": "-"}) == {
        "src_ip": "10.0.0.7",
        "dst_ip": "198.51.100.2",
    }
