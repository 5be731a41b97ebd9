"""The event archive: every accepted event, as Parquet files partitioned by day and organisation.

Layout: ``root/day=YYYY-MM-DD/org=<org>/part-<uuid>.parquet``. Each file holds the columns of
:data:`SCHEMA`; ``day`` and ``org`` live in the path only (hive partitioning), so a query for one organisation
and a week opens only that organisation's directories for those seven days.

Files appear atomically (written under a temporary name, fsynced, renamed), so readers never see half a file.
:meth:`EventArchive.compact` merges a partition's small files into one; a reader racing it may, for an
instant, see the merged rows twice (new file renamed in, old files not yet removed), never lose any.

Queries go through DuckDB with every value as a bound parameter; field names are checked against
:data:`FIELD_NAME` before they become a JSON path, and the path itself is a parameter too.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mamori.core.errors import ValidationFailed
from mamori.core.messages import EVENT_ID, HOST, ORG, RAW, SENSOR, SOURCE, TIMESTAMP, Event

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
# Event field names a query may filter on: Sigma/Windows/EVE names, dotted paths, '@timestamp'.
FIELD_NAME = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,127}")
MAX_LIMIT = 10_000
COMPRESSION = "zstd"
WRITERS = 4  # threads writing the partitions of one batch (mostly waiting on fsync)
# The file list is a parameter; hive types keep numeric-looking org ids as text.
_SOURCE = "read_parquet(?, hive_partitioning=true, hive_types={'day': DATE, 'org': VARCHAR}, union_by_name=true)"


class EventArchive:
    """Parquet files under ``root``; safe to share between threads of one process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._db = duckdb.connect(":memory:")
        self._db_lock = threading.Lock()  # cursor() on the shared connection is not itself thread-safe
        self._pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="archive-write")

    def close(self) -> None:
        """Release the writer threads and the DuckDB connection."""
        self._pool.shutdown(wait=True)
        self._db.close()

    # ---- writing ------------------------------------------------------------------------------------
    def write(self, events: list[Event]) -> list[Path]:
        """Append ``events`` (each with ``org`` and ``@timestamp``); returns the files written."""
        if not events:
            return []
        parts = _partitions(*_to_table(events))
        if len(parts) == 1:
            return [self._write_part(*parts[0])]
        # Parquet encoding and fsync release the GIL: partitions of one batch are written side by side.
        return list(self._pool.map(lambda part: self._write_part(*part), parts))

    def _write_part(self, day: str, org: str, table: pa.Table) -> Path:
        directory = self.root / f"day={day}" / f"org={org}"
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / f"part-{uuid.uuid4().hex}.parquet"
        _atomic_write(table, final)
        return final

    # ---- reading ------------------------------------------------------------------------------------
    def query(
        self,
        *,
        orgs: set[str] | None,
        since: datetime,
        until: datetime,
        filters: dict[str, str] | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Event]:
        """Events with ``since <= @timestamp < until``, newest first.

        ``orgs=None`` is every organisation (the national view); an empty set is none. ``filters`` are exact
        matches on event fields (values compared as text); ``text`` is a case-insensitive substring of the
        raw record or of any field.
        """
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            raise ValidationFailed(f"limit must be 1..{MAX_LIMIT} and offset >= 0", where="limit")
        files = self._files(orgs, since, until)
        if not files:
            return []
        where, params = _conditions(since, until, filters or {}, text)
        # Only fixed SQL fragments are joined here; every caller value is a bound parameter.
        sql = f"SELECT id, org, fields, raw FROM {_SOURCE} WHERE {where} ORDER BY ts DESC, id LIMIT ? OFFSET ?"  # noqa: S608
        rows = self._fetch(sql, [files, *params, limit, offset])
        return [_to_event(*row) for row in rows]

    def count_by_day(self, *, orgs: set[str] | None, since: datetime, until: datetime) -> dict[date, dict[str, int]]:
        """Event counts per UTC day and organisation, ``since <= @timestamp < until``."""
        files = self._files(orgs, since, until)
        if not files:
            return {}
        where, params = _conditions(since, until, {}, None)
        sql = f"SELECT day, org, count(*) FROM {_SOURCE} WHERE {where} GROUP BY day, org ORDER BY day, org"  # noqa: S608
        counts: dict[date, dict[str, int]] = defaultdict(dict)
        for day, org, count in self._fetch(sql, [files, *params]):
            counts[day][org] = count
        return dict(counts)

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._db_lock:
            cursor = self._db.cursor()
        try:
            return cursor.execute(sql, params).fetchall()
        finally:
            cursor.close()

    def _files(self, orgs: set[str] | None, since: datetime, until: datetime) -> list[str]:
        """Partition pruning done here, from the directory names: only the days and orgs asked for."""
        _check_range(since, until)
        first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
        files: list[str] = []
        for day_dir in self._day_dirs():
            day = _day_of(day_dir.name)
            if day is None or not first <= day <= last:
                continue
            for org_dir in day_dir.glob("org=*"):
                if orgs is None or org_dir.name.removeprefix("org=") in orgs:
                    files.extend(str(p) for p in sorted(org_dir.glob("part-*.parquet")))
        return files

    def _day_dirs(self) -> list[Path]:
        return sorted(self.root.glob("day=*")) if self.root.is_dir() else []

    # ---- maintenance --------------------------------------------------------------------------------
    def compact(self, day: date) -> list[Path]:
        """Merge each organisation's part files of ``day`` into one file; returns the new files."""
        day_dir = self.root / f"day={day.isoformat()}"
        if not day_dir.is_dir():
            return []
        merged = []
        for org_dir in sorted(day_dir.glob("org=*")):
            parts = sorted(org_dir.glob("part-*.parquet"))
            if len(parts) > 1:
                merged.append(_merge(org_dir, parts))
        return merged


def _merge(directory: Path, parts: list[Path]) -> Path:
    """Stream ``parts`` into one new file (bounded memory), rename it in, then remove exactly ``parts``."""
    final = directory / f"part-{uuid.uuid4().hex}.parquet"
    temporary = directory / f".{final.name}.tmp"
    try:
        with temporary.open("wb") as sink:
            with pq.ParquetWriter(sink, SCHEMA, compression=COMPRESSION) as writer:
                for part in parts:
                    for batch in pq.ParquetFile(part).iter_batches(batch_size=65_536):
                        writer.write_batch(batch.select(SCHEMA.names))
            _sync(sink)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    for part in parts:  # files written meanwhile by others are not in `parts` and stay
        part.unlink(missing_ok=True)
    _sync_dir(directory)
    return final


def _atomic_write(table: pa.Table, final: Path) -> None:
    temporary = final.with_name(f".{final.name}.tmp")
    try:
        with temporary.open("wb") as sink:
            pq.write_table(table, sink, compression=COMPRESSION)
            _sync(sink)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    _sync_dir(final.parent)


def _sync(sink: Any) -> None:
    sink.flush()
    os.fsync(sink.fileno())


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- columns --------------------------------------------------------------------------------------------
def _to_table(events: list[Event]) -> tuple[pa.Table, pa.Array]:
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


def _partitions(table: pa.Table, orgs: pa.Array) -> list[tuple[str, str, pa.Table]]:
    """Split ``table`` into (day, org, rows) runs in C: sort by day, org and time; cut where the key changes.

    Sorting by time inside a file also gives each row group a narrow ts range, which DuckDB uses to skip
    row groups outside a query's window.
    """
    days = pc.cast(table["ts"], pa.date32())
    keyed = table.append_column("_day", days).append_column("_org", orgs)
    keyed = keyed.take(
        pc.sort_indices(keyed, sort_keys=[("_day", "ascending"), ("_org", "ascending"), ("ts", "ascending")])
    )
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
    try:
        return pc.cast(pa.array(stamps, pa.string()), SCHEMA.field("ts").type)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        now = datetime.now(UTC)
        return pa.array([_one_timestamp(s, now) for s in stamps], SCHEMA.field("ts").type)


def _one_timestamp(value: Any, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return default
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
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
    return orjson.dumps(body, default=str).decode()


def _to_event(event_id: str, org: str, fields: str, raw: str | None) -> Event:
    event: Event = orjson.loads(fields)
    event[EVENT_ID] = event_id
    event[ORG] = org  # the partition is authoritative
    if raw is not None:
        event[RAW] = raw
    return event


# ---- query pieces ---------------------------------------------------------------------------------------
def _check_range(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationFailed("since and until must carry a time zone", where="since")


def _day_of(name: str) -> date | None:
    try:
        return date.fromisoformat(name.removeprefix("day="))
    except ValueError:
        return None


def _conditions(since: datetime, until: datetime, filters: dict[str, str], text: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (fixed SQL text) and its parameters (every value the caller gave)."""
    clauses = ["ts >= ?", "ts < ?"]
    params: list[Any] = [since.astimezone(UTC), until.astimezone(UTC)]
    for name, value in filters.items():
        if not FIELD_NAME.fullmatch(name):
            raise ValidationFailed(f"not a field name: {name!r:.80}", where="filters")
        # Keys are flat (dotted names are literal keys), so the JSON path quotes the whole name.
        clauses.append("json_extract_string(fields, ?) = ?")
        params += [f'$."{name}"', str(value)]
    if text:
        clauses.append("(contains(lower(coalesce(raw, '')), ?) OR contains(lower(fields), ?))")
        params += [text.lower(), text.lower()]
    return " AND ".join(clauses), params
