"""JSON record reading shared by the JSON-lines and Suricata parsers.

Accepts NDJSON (one object per line), a JSON array of objects, or a single (possibly pretty-printed) object.
Every record comes back with where it was and its original text, or as a :class:`ParseFailure`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from mamori.ingest.parsers._common import MAX_RECORD, iter_lines, location
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

# (locator, original bytes, decoded object). The locator is a line number, or "[index]" inside an array;
# `location(origin, locator)` names it in a failure. The bytes are decoded for `raw` only when an event needs
# them: records forwarded by sensors already carry their own `raw`.
JsonRecord = tuple[int | str, bytes, dict[str, Any]]

_BOM = b"\xef\xbb\xbf"
_FIRST = re.compile(rb"\s*+(\S)")
_MORE_LINES = re.compile(rb"\n\s*+\S")  # content after a line break: NDJSON or a pretty-printed document
# Nested objects deeper than this are kept as JSON text under the last dotted key: flattening is iterative,
# but nothing legitimate nests this deep and each level makes longer keys.
MAX_DEPTH = 16


def iter_json(data: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    """The JSON objects in ``data``, in order; anything else as a failure that says where."""
    body = data[3:] if data.startswith(_BOM) else data
    first = _FIRST.match(body)
    head = first.group(1) if first else b""
    if head in (b"[", b"{") and _MORE_LINES.search(body) and not _first_line_is_json(body):
        # One pretty-printed array/object, or NDJSON whose first line is broken: try the whole document.
        # When it is not valid JSON as a whole, reading line by line keeps every good record.
        try:
            whole = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            yield from _values(whole, body, origin)
            return
    elif head == b"[":
        yield from _iter_array(body, origin)
        return
    yield from _iter_ndjson(body, origin)


def _first_line_is_json(body: bytes) -> bool:
    """Whether the first line is a whole JSON value, i.e. ``body`` is NDJSON: no whole-file parse needed."""
    try:
        orjson.loads(body[: body.find(b"\n")])
    except orjson.JSONDecodeError:
        return False
    return True


def _iter_ndjson(body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    for item in iter_lines(body, origin):
        if isinstance(item, ParseFailure):
            yield item
            continue
        number, line = item
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield ParseFailure.of(f"invalid JSON: {exc}", location(origin, number), line)
            continue
        yield _record(value, number, line, origin)


def _iter_array(body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        yield ParseFailure.of(f"invalid JSON array: {exc}", location(origin, 1), body)
        return
    yield from _values(values, body, origin)


def _values(value: object, body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    """The records of one decoded document: each element of an array, or the value itself."""
    if not isinstance(value, list):
        yield _record(value, 1, body, origin)
        return
    for index, element in enumerate(value):
        # The element's original bytes are gone once the array is decoded; re-encode it for `raw`.
        raw = orjson.dumps(element)
        if len(raw) > MAX_RECORD:
            yield ParseFailure.of(f"record longer than {MAX_RECORD} bytes", location(origin, f"[{index}]"), raw)
            continue
        yield _record(element, f"[{index}]", raw, origin)


def _record(value: object, locator: int | str, raw: bytes, origin: str) -> JsonRecord | ParseFailure:
    if type(value) is not dict:
        reason = f"record is a JSON {type(value).__name__}, not an object"
        return ParseFailure.of(reason, location(origin, locator), raw)
    return locator, raw, value


def maybe_nested(raw: bytes) -> bool:
    """False when the record's text has no ``{`` after its first byte: then nothing is nested (a C scan)."""
    return raw.find(b"{", 1) != -1


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """Nested objects become dotted keys (``{"alert": {"severity": 1}}`` → ``alert.severity``), in place.

    Lists are kept as lists (Sigma matches any element). Only nested values are visited in Python; flat
    records (the common case) cost one comprehension.
    """
    nested = [key for key, value in record.items() if type(value) is dict]
    for key in nested:
        _merge(record, f"{key}.", record.pop(key), 1)
    return record


def _merge(out: dict[str, Any], prefix: str, obj: dict[str, Any], depth: int) -> None:
    for key, value in obj.items():
        if type(value) is not dict:
            out[prefix + key] = value
        elif depth >= MAX_DEPTH:  # recursion is bounded here, whatever the input
            out[prefix + key] = orjson.dumps(value).decode()[:MAX_RAW]
        else:
            _merge(out, f"{prefix}{key}.", value, depth + 1)
