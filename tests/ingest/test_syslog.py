"""Syslog parser: RFC 5424, RFC 3164, file lines, and CrowdSec's own parser assertions as an oracle."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.syslog import SyslogParser, parse_frame, utc_naive

from .conftest import DATA, data_file, split

PARSER = SyslogParser()
RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def parse_one(line: str) -> dict[str, object]:
    events, failures = split(PARSER.parse(line.encode(), origin="t", received=RECEIVED, host="peer"))
    assert not failures, failures
    assert len(events) == 1
    return events[0]


def test_rfc5424_with_structured_data_and_bom() -> None:
    event = parse_one(
        '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" '
        'eventSource="Appli\\"cation"][meta sequenceId="1"] \ufeffAn application event'
    )
    assert event["facility"] == 20 and event["severity"] == 5
    assert event["@timestamp"] == "2003-10-11T22:14:15.003000Z"
    assert event["host"] == "mymachine.example.com"
    assert (event["program"], event["pid"], event["msgid"]) == ("evntslog", "1234", "ID47")
    assert event["sd.exampleSDID@32473.eventSource"] == 'Appli"cation'
    assert event["sd.meta.sequenceId"] == "1"
    assert event["message"] == "An application event"
    assert event["source"] == "syslog"


def test_rfc5424_nil_values_use_the_receive_time_and_caller_host() -> None:
    event = parse_one("<13>1 - - - - - -")
    assert event["@timestamp"] == "2026-01-02T03:04:05.000000Z"
    assert event["host"] == "peer"
    assert event["message"] == ""
    assert "program" not in event and "structured_data" not in event


def test_rfc3164_with_pri() -> None:
    event = parse_one("<38>Feb  5 17:32:18 10.0.0.99 sshd[4242]: Failed password for root from 1.2.3.4")
    assert (event["facility"], event["severity"]) == (4, 6)
    # no year: the receive year, or the one before when Feb 5 would lie in the future (received 2 Jan)
    assert event["@timestamp"] == "2025-02-05T17:32:18.000000Z"
    assert event["host"] == "10.0.0.99"
    assert (event["program"], event["pid"]) == ("sshd", "4242")
    assert event["message"] == "Failed password for root from 1.2.3.4"


@pytest.mark.parametrize(
    ("line", "stamp"),
    [
        ("Mar  1 2024 10:00:00 rtr1 sshd[1]: x", "2024-03-01T10:00:00.000000Z"),  # with a year
        ("Feb 12 14:10:21.123 h sshd[1]: x", "2025-02-12T14:10:21.123000Z"),  # fraction, year before receipt
        ("<13>2024-05-01T12:00:00+02:00 h cron[7]: x", "2024-05-01T10:00:00.000000Z"),  # ISO after a PRI
        ("<13>1 2024-05-01T12:00:00.5-03:30 h app - - - x", "2024-05-01T15:30:00.500000Z"),
        ("<13>1 not-a-time h app - - - x", "2026-01-02T03:04:05.000000Z"),  # invalid: the receive time
    ],
)
def test_timestamps(line: str, stamp: str) -> None:
    assert parse_one(line)["@timestamp"] == stamp


def test_december_line_read_in_january_belongs_to_last_year() -> None:
    assert parse_one("Dec 31 23:59:59 h cron[1]: x")["@timestamp"] == "2025-12-31T23:59:59.000000Z"


def test_rfc3164_without_hostname() -> None:
    event = parse_one("<13>Feb  5 17:32:18 su: 'su root' failed for lonvick on /dev/pts/8")
    assert event["host"] == "peer" and event["program"] == "su"


def test_file_line_with_iso_timestamp() -> None:
    event = parse_one("2023-08-17T16:55:35.689651+02:00 mono endlessh[34256]: ACCEPT host=::ffff:1.2.3.4")
    assert event["@timestamp"] == "2023-08-17T14:55:35.689651Z"
    assert (event["host"], event["program"], event["pid"]) == ("mono", "endlessh", "34256")
    assert "facility" not in event


def test_pri_with_unreadable_header_keeps_the_whole_message() -> None:
    event = parse_one("<14>%ASA-6-302013 Built outbound TCP connection")
    assert event["message"] == "%ASA-6-302013 Built outbound TCP connection"
    assert event["@timestamp"] == "2026-01-02T03:04:05.000000Z"


@pytest.mark.parametrize(
    "line",
    [
        "just words",
        "2024-12-15 14:10:00 OpenVPN 2.6.3 x86_64-linux-gnu started",  # an application log, no TAG
        "<999>1 2003-10-11T22:14:15.003Z h a p m - x",  # PRI out of range
        "Feb 30 10:00:00 [bad] x: y",
    ],
)
def test_not_syslog_is_a_failure(line: str) -> None:
    (item,) = PARSER.parse(line.encode(), origin="f", received=RECEIVED)
    assert isinstance(item, ParseFailure) and item.where == "f:1"


def test_frame_may_span_lines() -> None:
    frame = b"<13>1 2024-01-01T00:00:00Z h app - - - first\nsecond\n"
    event = parse_frame(frame, where="udp", received=utc_naive(RECEIVED), host=None)
    assert isinstance(event, dict) and event["message"] == "first\nsecond"


def _crowdsec_expectations(text: str) -> dict[int, dict[str, str]]:
    expected: dict[int, dict[str, str]] = {}
    pattern = r'\["crowdsecurity/syslog-logs"\]\[(\d+)\]\.Evt\.Parsed\["(program|pid|message)"\] == "(.*)"$'
    for m in re.finditer(pattern, text, re.MULTILINE):
        expected.setdefault(int(m.group(1)), {})[m.group(2)] = m.group(3).encode().decode("unicode_escape")
    # Lines CrowdSec reads without a program (a tagless "timestamp host message") are refused here on
    # purpose: without PRI, the TAG is what tells a syslog line from an application log.
    return {i: e for i, e in expected.items() if "program" in e}


@pytest.mark.shared_data
def test_crowdsec_syslog_parser_assertions_are_met() -> None:
    tests = data_file("web/crowdsec-hub-tests/.tests")
    checked = 0
    for asserts in sorted(tests.glob("*/parser.assert")):
        expected = _crowdsec_expectations(asserts.read_text())
        if not expected:
            continue
        config = (asserts.parent / "config.yaml").read_text()
        log_file = re.search(r"^log_file: (.+)$", config, re.MULTILINE)
        assert log_file is not None
        items = list(PARSER.parse((asserts.parent / log_file.group(1).strip()).read_bytes(), origin="cs"))
        for index, fields in expected.items():
            event = items[index]
            assert isinstance(event, dict), (asserts.parent.name, index, event)
            for name, value in fields.items():
                assert event.get(name) == value, (asserts.parent.name, index, name)
                checked += 1
    assert checked > 1000


@pytest.mark.shared_data
def test_ssh_brute_force_log() -> None:
    path = data_file("web/crowdsec-hub-tests/.tests/ssh-bf/ssh-bf.log")
    events, failures = split(PARSER.parse(path.read_bytes(), origin="ssh", received=RECEIVED))
    assert events and not failures
    assert {e["program"] for e in events} <= {"sshd", "sshd-session"}


def test_data_dir_is_beside_the_repo() -> None:
    assert DATA.name == "data" and DATA.parent.name == "shared"
