"""Windows parsers: the flat event shape from every layout, and no crash on any bytes."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.windows import EvtxParser, WindowsJsonParser

CRATE = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 3},
            "TimeCreated": {"#attributes": {"SystemTime": "2026-11-23T08:15:02.123456Z"}},
            "EventRecordID": 42,
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "ws01.example.org",
        },
        "EventData": {
            "Image": "C:\\x.exe",
            "Initiated": True,
            "Threat Name": "Evil",
            "Empty": None,
            "Port": 443,
        },
    }
}


def parse_json(doc: object) -> list[object]:
    return list(WindowsJsonParser().parse(orjson.dumps(doc), origin="test"))


def test_evtx_crate_layout() -> None:
    [event] = parse_json(CRATE)
    assert isinstance(event, dict)
    assert event["EventID"] == 3 and event["EventRecordID"] == 42
    assert event["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert event["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert event["Computer"] == event["host"] == "ws01.example.org"
    assert event["@timestamp"] == "2026-11-23T08:15:02.123456Z"
    assert event["source"] == "windows"
    assert event["Initiated"] == "true"  # booleans as the XML renders them
    assert event["ThreatName"] == "Evil"  # spaces removed from names
    assert "Empty" not in event  # null values dropped
    assert event["Port"] == 443
    assert '"Image"' in event["raw"]


def test_unnamed_data_is_joined_and_userdata_flattened() -> None:
    doc = {
        "Event": {
            "System": {"EventID": 1102, "Channel": "Security"},
            "EventData": {"Data": {"#text": ["show advanced options", "0", "1"]}},
            "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "x"}, "SubjectUserName": "bob"}},
        }
    }
    [event] = parse_json(doc)
    assert isinstance(event, dict)
    assert event["Data"] == "show advanced options\n0\n1"
    assert event["SubjectUserName"] == "bob"


def test_winlogbeat_layout() -> None:
    doc = {
        "@timestamp": "2026-11-23T08:15:02.123Z",
        "winlog": {
            "event_id": "4625",
            "channel": "Security",
            "computer_name": "dc01",
            "record_id": 7,
            "provider_name": "Microsoft-Windows-Security-Auditing",
            "event_data": {"TargetUserName": "admin", "IpAddress": "10.0.0.9"},
        },
    }
    [event] = parse_json(doc)
    assert isinstance(event, dict)
    assert event["EventID"] == 4625 and event["Channel"] == "Security" and event["host"] == "dc01"
    assert event["TargetUserName"] == "admin" and event["EventRecordID"] == 7
    assert event["@timestamp"] == "2026-11-23T08:15:02.123Z"


def test_nxlog_flat_layout_and_json_lines() -> None:
    lines = b"\n".join(
        orjson.dumps(d)
        for d in (
            {
                "EventTime": "2026-11-23 08:15:02",
                "Hostname": "dc01",
                "EventID": 4624,
                "Channel": "Security",
                "SourceName": "Microsoft-Windows-Security-Auditing",
                "TargetUserName": "alice",
                "Message": "long text",
            },
            {"EventID": 4625, "Channel": "Security"},
        )
    )
    events = list(WindowsJsonParser().parse(lines, origin="t"))
    assert [e["EventID"] for e in events if isinstance(e, dict)] == [4624, 4625]
    first = events[0]
    assert isinstance(first, dict)
    assert first["Computer"] == "dc01" and first["Provider_Name"].startswith("Microsoft")
    assert "Message" not in first and first["@timestamp"] == "2026-11-23T08:15:02Z"


def test_pretty_printed_concatenated_objects_and_bad_records() -> None:
    data = (
        orjson.dumps(CRATE, option=orjson.OPT_INDENT_2)
        + b"\n{ broken json\n"
        + orjson.dumps(CRATE, option=orjson.OPT_INDENT_2)
        + b"\n"
        + orjson.dumps({"no": "layout"})
    )
    items = list(WindowsJsonParser().parse(data, origin="t"))
    assert sum(isinstance(i, dict) for i in items) == 2
    assert sum(isinstance(i, ParseFailure) for i in items) == 2


def test_not_an_evtx_file_is_a_failure() -> None:
    items = list(EvtxParser().parse(b"hello", origin="t"))
    assert len(items) == 1 and isinstance(items[0], ParseFailure)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=4096))
def test_evtx_parser_never_raises(data: bytes) -> None:
    for item in EvtxParser().parse(data, origin="fuzz"):
        assert isinstance(item, dict | ParseFailure)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=70_000))
def test_evtx_parser_never_raises_on_damaged_files(tail: bytes) -> None:
    header = b"ElfFile\x00" + bytes(8) + b"\x01\x00\x00\x00\x00\x00\x00\x00" + bytes(96)
    for item in EvtxParser().parse(header + tail, origin="fuzz"):
        assert isinstance(item, dict | ParseFailure)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_json_parser_never_raises_on_bytes(data: bytes) -> None:
    for item in WindowsJsonParser().parse(data, origin="fuzz"):
        assert isinstance(item, dict | ParseFailure)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "Event",
        "System",
        "EventData",
        "UserData",
        "winlog",
        "event_data",
        "EventID",
        "Channel",
        "#text",
        "#attributes",
        "Provider",
        "TimeCreated",
        "Data",
    ]
)
SHAPED = st.recursive(JSON, lambda inner: st.dictionaries(KEYS, inner, max_size=5), max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(SHAPED)
def test_json_parser_never_raises_on_windows_shaped_json(doc: object) -> None:
    for item in WindowsJsonParser().parse(orjson.dumps(doc), origin="fuzz"):
        assert isinstance(item, dict | ParseFailure)


# The EVTX reader decodes the crate's records into a typed shape (msgspec) and falls back to orjson +
# flatten_evtx_json for any other shape: both must give the same event, key order included.
def _typed(data: str) -> object:
    from mamori.ingest.parsers.windows import _decode_record, _flatten_record

    try:
        return _flatten_record(_decode_record(data), data)
    except Exception:  # the reader falls back for anything the typed path refuses
        return None


def _generic(data: str) -> object:
    from mamori.ingest.parsers.windows import flatten_evtx_json

    try:
        return flatten_evtx_json(orjson.loads(data), data)
    except Exception:
        return None


def _same(data: str) -> None:
    typed = _typed(data)
    if typed is not None:  # where the typed path takes a record, it must give the generic path's event
        generic = _generic(data)
        assert typed == generic
        assert isinstance(typed, dict) and isinstance(generic, dict) and list(typed) == list(generic)


SYSTEM_VALUES = JSON | st.dictionaries(st.sampled_from(["#attributes", "#text", "Name", "Guid", "SystemTime"]), JSON)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["Provider", "EventID", "TimeCreated", "Channel", "EventRecordID", "Computer", "Level"]),
        SYSTEM_VALUES,
    ),
    SHAPED,
    SHAPED,
)
def test_typed_record_reading_equals_generic_reading(system: dict[str, object], data: object, user: object) -> None:
    record = {"Event": {"System": {**CRATE["Event"]["System"], **system}, "EventData": data, "UserData": user}}  # type: ignore[dict-item]
    _same(orjson.dumps(record).decode())
    _same(orjson.dumps(CRATE).decode())


def test_typed_record_reading_equals_generic_reading_on_real_records() -> None:
    import evtx

    from tests.conftest import shared_data

    folder = shared_data("evtx", "evtx-attack-samples")
    typed = 0
    for path in sorted(folder.rglob("*.evtx")):
        for record in evtx.PyEvtxParser(str(path), 1, indent=False, skip_errors=True).records_json():
            _same(record["data"])
            typed += _typed(record["data"]) is not None
    assert typed > 8000  # the typed path takes (nearly) every real record


def test_without_raw_the_reader_keeps_no_original_json_on_either_path() -> None:
    from mamori.ingest.parsers.windows import _read_generic
    from tests.conftest import shared_data

    path = next(iter(sorted(shared_data("evtx", "evtx-attack-samples").rglob("*.evtx"))))
    events = [e for e in EvtxParser(raw=False).parse_file(str(path), origin="t") if isinstance(e, dict)]
    assert events and all(e["raw"] == "" for e in events)  # the typed path
    odd = orjson.dumps({"System": CRATE["Event"]["System"], "EventData": {"Image": "x"}}).decode()  # no "Event"
    event = _read_generic({"data": odd}, odd, "", "t", None, {})  # the generic path, as the reader calls it
    assert isinstance(event, dict) and event["raw"] == "" and event["Image"] == "x"
