"""Property tests: every parser, fed arbitrary bytes or text, never raises and accounts for every record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.ingest.parsers.base import MAX_RAW, ParseFailure, Parser
from mamori.ingest.parsers.registry import PARSERS, sniff

from .conftest import split

RECEIVED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GOOD = {
    "json": b'{"message": "ok"}',
    "suricata": b'{"event_type": "alert", "src_ip": "10.0.0.1", "alert": {"signature_id": 1}}',
    "syslog": b"<13>1 2024-01-01T00:00:00Z host app 1 - - ok",
    "webaccess": b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Text that looks a little like each format, so hypothesis reaches the deeper branches, not just the first
# regex: fragments of real syntax glued with arbitrary characters.
FRAGMENTS = st.sampled_from(
    [
        *('"', "[", "]", "{", "}", "<13>", "1 ", " - ", "\\", "\\x22", ":", "\n", " "),
        *("Jan 1 ", "00:00:00", "HTTP/1.1", "[01/Jan/2024:00:00:00 +0000]"),
    ]
)
TEXTISH = st.lists(st.one_of(FRAGMENTS, st.text(max_size=12)), max_size=40).map("".join)


def check(parser: Parser, data: bytes) -> None:
    for item in parser.parse(data, origin="prop"):
        if isinstance(item, ParseFailure):
            assert item.where.startswith("prop:") and len(item.raw) <= MAX_RAW
        else:
            assert isinstance(item, dict)
            assert item["@timestamp"].endswith("Z")
            assert isinstance(item["raw"], str) and len(item["raw"].encode()) <= 4 * MAX_RAW
            assert "source" in item and "host" in item


@pytest.mark.parametrize("name", sorted(PARSERS))
@SETTINGS
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    check(PARSERS[name], data)
    sniff(data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@SETTINGS
@given(text=st.one_of(st.text(max_size=512), TEXTISH))
def test_arbitrary_text(name: str, text: str) -> None:
    check(PARSERS[name], text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("name", sorted(GOOD))  # the line-oriented formats (Windows ones: tests/ingest/test_windows_*)
@SETTINGS
@given(bad=TEXTISH.filter(lambda t: "\n" not in t and t.strip() != ""), position=st.integers(0, 2))
def test_one_bad_line_does_not_lose_the_good_ones(name: str, bad: str, position: int) -> None:
    good = GOOD[name]
    lines = [good, good]
    lines.insert(position, bad.encode("utf-8", "surrogatepass"))
    items = list(PARSERS[name].parse(b"\n".join(lines), origin="prop", received=RECEIVED))  # type: ignore[call-arg]
    events, failures = split(items)
    assert len(items) == 3  # one result per non-blank line: nothing dropped, nothing invented
    assert len(events) >= 2
    assert all(f.where == f"prop:{position + 1}" for f in failures)
