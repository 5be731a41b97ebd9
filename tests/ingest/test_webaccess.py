"""Access-log parser: real logs (benign, bots, scanners, hostile requests) and hand-written edge cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mamori.ingest.parsers.base import MAX_RAW
from mamori.ingest.parsers.webaccess import WebAccessParser, access_time

from .conftest import data_file, split

PARSER = WebAccessParser()
RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TS = "[01/Jan/2024:00:00:00 +0000]"


def parse_one(line: str | bytes) -> dict[str, object]:
    data = line.encode() if isinstance(line, str) else line
    events, failures = split(PARSER.parse(data, origin="t", received=RECEIVED))
    assert not failures, failures
    assert len(events) == 1
    return events[0]


def test_combined_line_maps_to_sigma_webserver_fields() -> None:
    line = (
        '83.149.9.216 - - [17/May/2015:10:05:03 +0200] "GET /search.php?q=1%27+UNION+SELECT HTTP/1.1" 200 '
        '203023 "http://semicomplete.com/" "Mozilla/5.0 (X11)"'
    )
    event = parse_one(line)
    assert event == {
        "@timestamp": "2015-05-17T08:05:03.000000Z",
        "source": "webserver",
        "host": None,
        "raw": line,
        "c-ip": "83.149.9.216",
        "cs-method": "GET",
        "cs-uri-query": "/search.php?q=1%27+UNION+SELECT",
        "c-uri": "/search.php?q=1%27+UNION+SELECT",
        "cs-uri-stem": "/search.php",
        "c-uri-query": "q=1%27+UNION+SELECT",
        "cs-version": "HTTP/1.1",
        "sc-status": 200,
        "sc-bytes": 203023,
        "cs-referer": "http://semicomplete.com/",
        "cs-user-agent": "Mozilla/5.0 (X11)",
    }


def test_common_format_has_no_referer_or_agent() -> None:
    event = parse_one('10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326')
    assert event["cs-username"] == "frank"
    assert event["@timestamp"] == "2000-10-10T20:55:36.000000Z"
    assert "cs-referer" not in event and "cs-user-agent" not in event


def test_vhost_combined_sets_cs_host_and_host() -> None:
    event = parse_one(f'www.example.org:443 2001:db8::7 - - {TS} "POST /wp-login.php HTTP/2.0" 302 0 "-" "curl/8.0"')
    assert event["cs-host"] == "www.example.org"
    assert event["host"] == "www.example.org"
    assert event["c-ip"] == "2001:db8::7"
    assert "cs-referer" not in event  # "-" means not sent, so Sigma's `cs-referer: null` matches


def test_extra_fields_after_the_user_agent_are_tolerated() -> None:
    # nginx formats often append "$http_x_forwarded_for" and $request_time to "combined"
    event = parse_one(f'10.0.0.2 - - {TS} "GET /x HTTP/1.1" 200 5 "-" "Go-http-client/1.1" "203.0.113.9" 0.003')
    assert event["cs-user-agent"] == "Go-http-client/1.1" and event["c-ip"] == "10.0.0.2"


def test_caller_host_is_used_when_the_line_names_none() -> None:
    line = b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"'
    (event,) = PARSER.parse(line, origin="t", received=RECEIVED, host="web01")
    assert isinstance(event, dict) and event["host"] == "web01"


def test_log_writer_escapes_are_undone_but_percent_encoding_is_kept() -> None:
    apache = parse_one(rf'1.2.3.4 - - {TS} "GET /a?x=\"%3Csvg HTTP/1.1" 404 1 "-" "a\\b"')
    nginx = parse_one(rf'1.2.3.4 - - {TS} "GET /a?x=\x22%3Csvg HTTP/1.1" 404 1 "-" "a\x5Cb"')
    assert apache["c-uri"] == nginx["c-uri"] == '/a?x="%3Csvg'
    assert apache["cs-user-agent"] == nginx["cs-user-agent"] == "a\\b"


def test_binary_probe_keeps_raw_and_status_without_request_fields() -> None:
    event = parse_one(r'1.2.3.4 - - [17/Oct/2023:05:57:49 +1100] "\x16\x03\x01\x01 \x02" 400 226 "-" "-"')
    assert event["sc-status"] == 400
    assert "cs-method" not in event


def test_invalid_time_falls_back_to_receive_time() -> None:
    event = parse_one('1.2.3.4 - - [99/Foo/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"')
    assert event["@timestamp"] == "2026-11-23T08:00:00.000000Z"
    assert access_time("31/Feb/2024:00:00:00 +0000") is None


def test_forged_second_record_inside_a_line_is_not_split() -> None:
    # \x0b, \x1c and \u2028 are line breaks for str.splitlines; only \n separates records.
    line = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /\x0bx\u2028y HTTP/1.1" 200 1 "-" "a\x1cb"'
    assert parse_one(line)["c-uri"] == "/\x0bx\u2028y"


def test_bad_line_fails_with_line_number_and_good_lines_survive() -> None:
    good = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"'
    data = f"{good}\nnot an access log\r\n\n{good}\n".encode()
    events, failures = split(PARSER.parse(data, origin="upload.log", received=RECEIVED))
    assert len(events) == 2
    assert [(f.where, f.raw) for f in failures] == [("upload.log:2", b"not an access log")]


def test_raw_is_truncated() -> None:
    line = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /' + "A" * 40_000 + ' HTTP/1.1" 200 1 "-" "-"'
    event = parse_one(line)
    assert len(event["raw"]) == MAX_RAW  # type: ignore[arg-type]
    assert len(event["c-uri"]) == 40_001  # type: ignore[arg-type]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("relative", "lines"),
    [
        ("web/elastic-examples-apache-logs/apache_logs", 10_000),
        ("web/logparser-hackers-access-log/hackers-access.log", 3_456),
        ("web/ocatak-apache-http-logs/acunetix.txt", 6_539),
        ("web/ocatak-apache-http-logs/netsparker.txt", 7_314),
        ("web/ocatak-apache-http-logs/w3af.txt", 3_996),
    ],
)
def test_real_access_logs_parse_completely(relative: str, lines: int) -> None:
    events, failures = split(PARSER.parse(data_file(relative).read_bytes(), origin=relative))
    assert not failures
    assert len(events) == lines
    assert all(e["@timestamp"].endswith("Z") and "c-ip" in e and "sc-status" in e for e in events)


@pytest.mark.shared_data
def test_ocatak_wrapping_quotes_are_tolerated() -> None:
    path = data_file("web/ocatak-apache-http-logs/w3af.txt")
    first = path.read_bytes().split(b"\n", 1)[0].rstrip(b"\r")
    event = parse_one(first)
    assert event["c-ip"] == "192.168.4.163" and event["cs-user-agent"] == "w3af.org"
    assert event["raw"] == first.decode()


@pytest.mark.shared_data
def test_crowdsec_web_attack_lines_keep_the_payload_as_logged() -> None:
    path = data_file("web/crowdsec-hub-tests/.tests/CVE-2022-26134/CVE-2022-26134.log")
    events, failures = split(PARSER.parse(path.read_bytes(), origin="cve"))
    assert not failures and len(events) == 2
    # SigmaHQ web_java_payload_in_access_logs.yml matches the encoded form '%24%7B%28%23a%3D%40'
    assert "%24%7B%28%23a%3D%40" in events[0]["cs-uri-query"]
