"""JSON record reading shared by the JSON-lines and Suricata parsers.

Accepts NDJSON (one object per line), a JSON array of objects, or a single (possibly pretty-printed) object.
Every record comes back with where it was and its original text, or as a :class:`ParseFailure`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from mamori.ingest.parsers._common import MAX_RECORD, iter_lines, raw_text
from mamori.ingest.parsers.base import MAX_RAW, ParseFailure

# (where, raw text, decoded object) — the object is any JSON value; callers refuse non-objects.
JsonRecord = tuple[str, str, dict[str, Any]]

_BOM = b"\xef\xbb\xbf"
# Nested objects deeper than this are kept as JSON text under the last dotted key: flattening is iterative,
# but nothing legitimate nests this deep and each level makes longer keys.
MAX_DEPTH = 16


def iter_json(data: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    """The JSON objects in ``data``, in order; anything else as a failure that says where."""
    body = data[3:] if data.startswith(_BOM) else data
    head = body.lstrip()[:1]
    if head in (b"[", b"{") and b"\n" in body.strip():
        # NDJSON, or one pretty-printed array/object: try the whole document first. For NDJSON orjson stops at
        # the end of the first record ("trailing characters"), so the failed attempt is cheap; and when the
        # whole is not valid JSON, reading line by line keeps every good record (one bad line loses nothing).
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


def _iter_ndjson(body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    for item in iter_lines(body, origin):
        if isinstance(item, ParseFailure):
            yield item
            continue
        where, line = item
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield ParseFailure.of(f"invalid JSON: {exc}", where, line)
            continue
        yield _record(value, where, line)


def _iter_array(body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        yield ParseFailure.of(f"invalid JSON array: {exc}", f"{origin}:1", body)
        return
    yield from _values(values, body, origin)


def _values(value: object, body: bytes, origin: str) -> Iterator[JsonRecord | ParseFailure]:
    """The records of one decoded document: each element of an array, or the value itself."""
    if not isinstance(value, list):
        yield _record(value, f"{origin}:1", body)
        return
    for index, element in enumerate(value):
        # The element's original bytes are gone once the array is decoded; re-encode it for `raw`.
        raw = orjson.dumps(element)
        where = f"{origin}:[{index}]"
        if len(raw) > MAX_RECORD:
            yield ParseFailure.of(f"record longer than {MAX_RECORD} bytes", where, raw)
            continue
        yield _record(element, where, raw)


def _record(value: object, where: str, raw: bytes) -> JsonRecord | ParseFailure:
    if not isinstance(value, dict):
        return ParseFailure.of(f"record is a JSON {type(value).__name__}, not an object", where, raw)
    return where, raw_text(raw), value


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
