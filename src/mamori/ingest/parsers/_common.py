"""Helpers shared by the parsers: line splitting, raw text, and fast UTC timestamps.

Everything here runs once per record on the hot path, so it avoids per-record objects where it can and caches
timestamp conversions (log lines arrive in bursts that share the same second).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from mamori.core.messages import ORG, SENSOR
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

# A record longer than this is refused as a whole: no legitimate log line is this long, and regexes and JSON
# decoding on multi-megabyte attacker input waste the core that other organisations' events share.
MAX_RECORD = 1 << 20

MONTHS = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}


def iso_z(dt: datetime) -> str:
    """``dt`` as ISO 8601 UTC with microseconds and a ``Z`` (naive datetimes are taken as UTC)."""
    offset = dt.utcoffset()
    if offset:
        dt = dt - offset
    # The first 26 characters are the date and time; an aware datetime appends its offset after them.
    return dt.isoformat(timespec="microseconds")[:26] + "Z"


def received_iso(received: datetime | None) -> str:
    """The caller's receive time (or now) in the event timestamp format."""
    return iso_z(received if received is not None else datetime.now(UTC))


@lru_cache(maxsize=8192)
def iso_from_isoformat(text: str) -> str | None:
    """An ISO 8601 timestamp with or without offset (``Z``, ``+01:00``, ``+0100``), or None when invalid."""
    try:
        parsed = datetime.fromisoformat(text)
        if len(text) == 27 and text[26] == "Z" and text[19] == ".":
            return text  # already the canonical form (a forwarded, normalised event): checked, not rebuilt
        return iso_z(parsed)
    except (ValueError, OverflowError):  # not a time; or shifting by the offset leaves years 1-9999
        return None


def raw_text(line: bytes) -> str:
    """The original record as kept in the event: at most MAX_RAW bytes, undecodable bytes replaced."""
    return line[:MAX_RAW].decode("utf-8", "replace")


def iter_lines(data: bytes, origin: str) -> Iterator[tuple[int, bytes] | ParseFailure]:
    """Non-blank lines of ``data`` as ``(line number, line)``, or a failure for a line over MAX_RECORD.

    Splits on ``\\n`` only: ``bytes.splitlines`` would also split on ``\\r``, ``\\x0b`` and ``\\x1c``,
    which an attacker can place inside a URL or user agent to forge a second record.
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line or line.isspace():
            continue
        if len(line) > MAX_RECORD:
            yield ParseFailure.of(f"record longer than {MAX_RECORD} bytes", location(origin, number), line)
            continue
        yield number, line


def location(origin: str, locator: int | str) -> str:
    """How a failure names its record: ``origin:line`` (or ``origin:[index]``). Built only for failures."""
    return f"{origin}:{locator}"


def offset(sign: str, hours: str, minutes: str) -> timedelta:
    """A UTC offset from its text parts; raises ValueError on non-digits."""
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def drop_caller_fields(event: dict[str, object]) -> None:
    """Remove ``org`` and ``sensor`` from a decoded record: only the caller, who knows the sender, sets them.

    Defence in depth: a sensor of one organisation must not be able to file events under another.
    """
    event.pop(ORG, None)
    event.pop(SENSOR, None)
