"""Events to Arrow columns for the archive, and the split of a batch into (day, organisation) partitions.

This is the write hot path (the HTTP ingest target is 50,000 events/s, so this must do several times that):
columns are built directly, one list comprehension each, and converted in C; checks that usually pass run
once per column and the slow path only when they fail. Nothing here touches the disk.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mamori.core.errors import ValidationFailed
from mamori.core.messages import EVENT_ID, HOST, ORG, RAW, SENSOR, SOURCE, TIMESTAMP, Event
from mamori.ingest.parsers.base import MAX_RAW

SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us", tz="UTC")),
        ("id", pa.string()),
        ("sensor", pa.string()),
        ("source", pa.string()),
        ("host", pa.string()),
        ("event_id", pa.int64()),  # Windows EventID when the event has one: the most common hunt filter
        ("fields", pa.string()),  # the whole event as JSON, without `raw`
        ("raw", pa.string()),
    ]
)
# Organisation ids become directory names: no separators, no dot-files, nothing a shell or glob reads twice.
ORG_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")
_MIN_TS = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z in microseconds since the epoch
_MAX_TS = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z


def to_table(events: list[Event]) -> tuple[pa.Table, pa.Array]:
    """The events as columns, and their organisations.

    Built directly (not via from_pylist): one list comprehension per column, converted in C. Checks that
    usually pass (all ids present, all hosts text) run once per column; the slow path only when they fail.
    """
    orgs = _strings([e.get(ORG) for e in events])
    for org in pc.unique(orgs).to_pylist():
        if not isinstance(org, str) or not ORG_NAME.fullmatch(org):
            raise ValidationFailed(f"event without a valid organisation id: {org!r:.80}", where=ORG)
    ids = _ids([e.get(EVENT_ID) for e in events])
    columns = [
        _timestamps([e.get(TIMESTAMP) for e in events]),
        pa.array(ids, pa.string()),
        _strings([e.get(SENSOR) for e in events]),
        _strings([e.get(SOURCE) for e in events]),
        _strings([e.get(HOST) for e in events]),
        _event_ids([e.get("EventID") for e in events]),
        pa.array([_fields(e, i) for e, i in zip(events, ids, strict=True)], pa.string()),
        _strings([e.get(RAW) for e in events]),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA), orgs


def partitions(table: pa.Table, orgs: pa.Array) -> list[tuple[str, str, pa.Table]]:
    """Split ``table`` into (day, org, rows) runs in C: sort by day and org, cut where the key changes.

    A batch from one sensor is usually one partition already: then nothing is sorted or copied.
    """
    days = pc.cast(table["ts"], pa.date32())
    if pc.count_distinct(orgs).as_py() == 1 and pc.count_distinct(days).as_py() == 1:
        return [(days[0].as_py().isoformat(), orgs[0].as_py(), table)]
    keyed = table.append_column("_day", days).append_column("_org", orgs)
    keyed = keyed.take(pc.sort_indices(keyed, sort_keys=[("_day", "ascending"), ("_org", "ascending")]))
    day_col, org_col = keyed["_day"], keyed["_org"]
    changed = pc.or_(
        pc.not_equal(day_col.slice(1), day_col.slice(0, len(day_col) - 1)),
        pc.not_equal(org_col.slice(1), org_col.slice(0, len(org_col) - 1)),
    )
    starts = [0, *(i + 1 for i in pc.indices_nonzero(changed).to_pylist()), len(keyed)]
    rows = keyed.drop_columns(["_day", "_org"])
    return [
        (day_col[start].as_py().isoformat(), org_col[start].as_py(), rows.slice(start, end - start))
        for start, end in itertools.pairwise(starts)
    ]


def _ids(values: list[Any]) -> list[str]:
    if all(type(v) is str and v for v in values):
        return values
    return [v if isinstance(v, str) and v else uuid.uuid4().hex for v in values]


def _strings(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a number or object where text was expected
        return pa.array([v if v is None or isinstance(v, str) else str(v) for v in values], pa.string())


def _event_ids(values: list[Any]) -> pa.Array:
    if all(v is None for v in values):
        return pa.nulls(len(values), pa.int64())
    return pa.array([_event_id(v) for v in values], pa.int64())


def _timestamps(stamps: list[Any]) -> pa.Array:
    """``@timestamp`` strings as UTC microseconds; one vectorised parse, row by row only if that fails."""
    kind = SCHEMA.field("ts").type
    try:
        ts = pc.cast(pa.array(stamps, pa.string()), kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    else:
        # Arrow also reads years Python cannot hold (year 0 after a +01:00 shift); those take the slow path.
        bounds = pc.min_max(ts)
        if ts.null_count == 0 and bounds["min"].value >= _MIN_TS and bounds["max"].value <= _MAX_TS:
            return ts
    now = datetime.now(UTC)
    return pa.array([_one_timestamp(s, now) for s in stamps], kind)


def _one_timestamp(value: Any, default: datetime) -> datetime:
    if not isinstance(value, str):
        return default
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # not a time, or outside years 1..9999 once in UTC
        return default


def _event_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _fields(event: Event, event_id: str) -> str:
    body = dict(event)  # a C-level copy; the caller's dict may be read by other stages meanwhile
    body.pop(RAW, None)
    body[EVENT_ID] = event_id
    try:
        return orjson.dumps(body, default=str).decode()
    except orjson.JSONEncodeError:  # lists nested 255 deep, integers over 64 bits, non-text keys
        return orjson.dumps({str(k): _encodable(v) for k, v in body.items()}, default=str).decode()


def _encodable(value: Any) -> Any:
    try:
        orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        return str(value)[:MAX_RAW]
    return value
