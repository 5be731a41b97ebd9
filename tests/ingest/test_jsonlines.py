"""JSON lines / arrays / single objects, and Suricata EVE (direct and routed through the JSON parser)."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime

import orjson
import pytest

from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.jsonlines import JsonLinesParser, time_of
from mamori.ingest.parsers.suricata import SuricataParser

from .conftest import data_file, split

JSON = JsonLinesParser()
EVE = SuricataParser()
RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ALERT = {
    "timestamp": "2023-11-01T00:46:34.435874+0100",
    "event_type": "alert",
    "src_ip": "10.10.31.101",
    "src_port": 56378,
    "dest_ip": "10.10.31.1",
    "dest_port": 53,
    "proto": "UDP",
    "alert": {"signature_id": 2049067, "signature": "ET MALWARE IcedID", "category": "Trojan", "severity": 1},
    "dns": {"query": [{"rrname": "grafielucho.com"}]},
}


def test_ndjson_with_a_bad_line_keeps_the_good_ones() -> None:
    data = b'{"a": 1}\n[1, 2]\n{"b": \n\n{"c": {"d": {"e": 3}}}\n'
    events, failures = split(JSON.parse(data, origin="up", received=RECEIVED))
    assert [e.get("a") or e.get("c.d.e") for e in events] == [1, 3]
    assert [f.where for f in failures] == ["up:2", "up:3"]
    assert "not an object" in failures[0].reason
    assert events[0]["@timestamp"] == "2026-11-23T08:00:00.000000Z"
    assert events[0]["source"] == "json" and events[0]["raw"] == '{"a": 1}'


def test_array_and_single_pretty_object() -> None:
    events, failures = split(JSON.parse(b'[{"a": 1}, 2, {"b": 2}]', origin="arr"))
    assert len(events) == 2 and [f.where for f in failures] == ["arr:[1]"]
    events, failures = split(JSON.parse(b'{\n  "a": {\n    "b": 1\n  }\n}\n', origin="one"))
    assert not failures and events[0]["a.b"] == 1


def test_broken_array_is_one_failure() -> None:
    (failure,) = JSON.parse(b'[{"a": 1}, {"b"', origin="arr")
    assert isinstance(failure, ParseFailure) and failure.reason.startswith("invalid JSON array")


def test_normalised_records_pass_through_but_not_their_tenancy() -> None:
    record = {
        "@timestamp": "2026-01-01T10:00:00+02:00",
        "source": "webserver",
        "host": "web01",
        "c-ip": "1.2.3.4",
        "raw": "original line",
        "org": "other-ministry",
        "sensor": "forged",
    }
    (event,) = JSON.parse(orjson.dumps(record), origin="s")
    assert isinstance(event, dict)
    assert event["@timestamp"] == "2026-01-01T08:00:00.000000Z"
    assert (event["source"], event["host"], event["raw"], event["c-ip"]) == (
        "webserver",
        "web01",
        "original line",
        "1.2.3.4",
    )
    assert "org" not in event and "sensor" not in event  # only the caller knows the sender's organisation


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-12T04:31:44Z", "2024-03-12T04:31:44.000000Z"),
        (1_700_758_468.5, "2023-11-23T16:54:28.500000Z"),
        (1_700_758_468_500, "2023-11-23T16:54:28.500000Z"),
        (True, None),
        (-5, None),
        (float("nan"), None),
        (10**30, None),
        ("yesterday", None),
    ],
)
def test_time_of(value: object, expected: str | None) -> None:
    assert time_of(value) == expected


def test_eve_alert_is_flattened_with_sigma_names() -> None:
    for parser in (JSON, EVE):
        (event,) = parser.parse(orjson.dumps(ALERT), origin="eve", host="sensor-1")
        assert isinstance(event, dict)
        assert event["source"] == "suricata"
        assert event["@timestamp"] == "2023-10-31T23:46:34.435874Z"
        assert (event["src_ip"], event["src_port"], event["dst_ip"], event["dst_port"]) == (
            "10.10.31.101",
            56378,
            "10.10.31.1",
            53,
        )
        assert "dest_ip" not in event
        assert event["alert.signature_id"] == 2049067 and event["alert.severity"] == 1
        assert event["dns.query"] == [{"rrname": "grafielucho.com"}]
        assert event["host"] == "sensor-1"


def test_eve_http_and_dns_get_proxy_and_dns_aliases() -> None:
    http = {"event_type": "http", "http": {"hostname": "evil.example", "url": "/a.exe", "http_method": "GET"}}
    dns = {"event_type": "dns", "dns": {"type": "query", "rrname": "x.example", "rrtype": "TXT"}}
    (h,) = EVE.parse(orjson.dumps(http), origin="e")
    (d,) = EVE.parse(orjson.dumps(dns), origin="e")
    assert isinstance(h, dict) and isinstance(d, dict)
    assert (h["cs-host"], h["c-uri"], h["cs-method"]) == ("evil.example", "/a.exe", "GET")
    assert (d["query"], d["record_type"]) == ("x.example", "TXT")


def test_suricata_parser_refuses_non_eve_objects() -> None:
    (failure,) = EVE.parse(b'{"a": 1}', origin="e")
    assert isinstance(failure, ParseFailure) and "event_type" in failure.reason


def test_deep_nesting_is_bounded() -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(200):
        deep = {"n": deep}
    (event,) = JSON.parse(orjson.dumps(deep), origin="d")
    assert isinstance(event, dict)
    assert max(len(k.split(".")) for k in event) <= 17


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "records"),
    [
        ("ids/mssis-suricata-icedid-eve/eve.json", 235),
        ("ids/mssis-suricata-icedid-eve/data/out.json", 2854),
        ("ids/suricata-sample-data/samples/wrccdc-2018/alerts-only.json", 207),
    ],
)
def test_real_eve_files(relative: str, records: int) -> None:
    events, failures = split(EVE.parse(data_file(relative).read_bytes(), origin=relative))
    assert not failures and len(events) == records
    alerts = [e for e in events if e["event_type"] == "alert"]
    assert alerts and all(isinstance(e["alert.signature_id"], int) for e in alerts)
    assert all(e["@timestamp"].endswith("Z") for e in events)


@pytest.mark.shared_data
def test_zeek_json_keeps_zeek_names_and_uses_ts() -> None:
    path = data_file("ids/zed-sample-data-zeek/zeek-json/dns.json.gz")
    with gzip.open(path) as lines:
        head = b"".join(itertools.islice(lines, 200))
    events, failures = split(JSON.parse(head, origin="dns"))
    assert len(events) == 200 and not failures
    assert events[0]["@timestamp"] == events[0]["ts"] == "2018-03-24T17:15:20.865716Z"
    assert events[0]["id.orig_h"] == "10.47.1.100" and events[0]["query"] == "ise.wrccdc.org"


def test_forwarded_raw_is_kept_within_the_limit() -> None:
    (event,) = JSON.parse(orjson.dumps({"raw": "é" * 20_000}), origin="r")
    assert isinstance(event, dict) and len(event["raw"].encode()) <= 16_384


@pytest.mark.shared_data
def test_icedid_infected_host_is_seen() -> None:
    path = data_file("ids/mssis-suricata-icedid-eve/eve.json")
    events, _ = split(JSON.parse(path.read_bytes(), origin="eve"))
    alert_sources = {e["src_ip"] for e in events if e["event_type"] == "alert"}
    assert "10.10.31.101" in alert_sources
