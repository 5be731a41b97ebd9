"""JSON lines (NDJSON), JSON arrays and single JSON objects.

Suricata EVE records (they carry ``event_type``) go to the Suricata normaliser. Any other object passes
through with nested objects flattened to dotted keys and the envelope completed: records that sensors
already normalised keep their fields, ``@timestamp`` is brought to the UTC ``Z`` form, ``source`` defaults
to ``json``. Zeek JSON logs pass through as they are: their field names (``id.orig_h``, ``query``) are the
ones Sigma's Zeek rules use. Windows JSON (Winlogbeat, EVTX exports) has its own parser.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from mamori.core.messages import HOST, RAW, SOURCE, TIMESTAMP, Event
from mamori.ingest.parsers import suricata, windows
from mamori.ingest.parsers._common import (
    drop_caller_fields,
    iso_from_isoformat,
    iso_z,
    raw_text,
    received_iso,
)
from mamori.ingest.parsers._json import flatten, iter_json, maybe_nested
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

SOURCE_NAME = "json"
_TIME_KEYS = (TIMESTAMP, "timestamp", "time", "ts")
_MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z; anything larger is not a time


def time_of(value: object) -> str | None:
    """An ISO 8601 string, or epoch seconds / milliseconds, as the event timestamp; None otherwise."""
    if isinstance(value, str):
        return iso_from_isoformat(value) if len(value) <= 64 else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 100_000_000_000 else value  # milliseconds since 1973
        if 0 <= seconds <= _MAX_EPOCH:
            return iso_z(datetime.fromtimestamp(seconds, UTC))
    return None


def normalise(record: dict[str, Any], *, raw: bytes, received: str, host: str | None) -> Event:
    """A decoded JSON object as an event (the record's dict is reused, flattened in place)."""
    if suricata.is_eve(record):
        return suricata.normalise(record, raw=raw, received=received, host=host)
    if windows.is_windows_record(record):
        event = windows.flatten_windows_json(record, raw)
        event.setdefault(TIMESTAMP, received)
        return event
    event = flatten(record) if maybe_nested(raw) else record
    drop_caller_fields(event)
    event[TIMESTAMP] = _timestamp(event) or received
    found_host = event.get(HOST) or event.get("host.name") or event.get("hostname")
    event[HOST] = found_host if isinstance(found_host, str) else host
    if type(event.get(SOURCE)) is not str:
        event[SOURCE] = SOURCE_NAME
    kept_raw = event.get(RAW)
    event[RAW] = _clip(kept_raw) if type(kept_raw) is str else raw_text(raw)
    return event


def _clip(text: str) -> str:
    """``text`` within MAX_RAW bytes of UTF-8 (a character is up to 4 bytes, so short texts need no check)."""
    if len(text) <= MAX_RAW // 4:
        return text
    return raw_text(text.encode("utf-8", "replace"))


def _timestamp(event: Event) -> str | None:
    for key in _TIME_KEYS:
        value = event.get(key)
        if value is not None:
            stamp = time_of(value)
            if stamp is not None:
                return stamp
    return None


class JsonLinesParser:
    """NDJSON, a JSON array of objects, or one JSON object."""

    name: ClassVar[str] = "json"

    def parse(
        self,
        data: bytes,
        *,
        origin: str,
        received: datetime | None = None,
        host: str | None = None,
    ) -> Iterator[Event | ParseFailure]:
        now = received_iso(received)
        for item in iter_json(data, origin):
            if isinstance(item, ParseFailure):
                yield item
            else:
                _where, raw, record = item
                yield normalise(record, raw=raw, received=now, host=host)
