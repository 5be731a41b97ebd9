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

import fcntl
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from mamori.core.errors import ValidationFailed
from mamori.core.messages import EVENT_ID, ORG, RAW, Event
from mamori.ingest.archive_columns import SCHEMA, partitions, to_table

__all__ = ["FIELD_NAME", "MAX_LIMIT", "SCHEMA", "EventArchive"]

# Event field names a query may filter on: Sigma/Windows/EVE names, dotted paths, '@timestamp'.
FIELD_NAME = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,127}")
MAX_LIMIT = 10_000
MAX_FILTERS = 32
MAX_TEXT = 1_000
READ_ATTEMPTS = 5
_SMALL = ["sensor", "source", "host"]
# zstd: ~10x smaller than plain for log text at ~550k rows per CPU-second. Dictionaries only where values
# repeat; min/max statistics only where queries filter (ts), not on kilobytes of JSON per row.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "use_dictionary": _SMALL,
    "write_statistics": ["ts", "event_id", *_SMALL],
}
WRITERS = 4  # threads writing the partitions of one batch (mostly waiting on fsync)
# The file list is a parameter; hive types keep numeric-looking org ids as text.
_SOURCE = "read_parquet(?, hive_partitioning=true, hive_types={'day': DATE, 'org': VARCHAR}, union_by_name=true)"


class EventArchive:
    """Parquet files under ``root``; safe to share between threads of one process."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        """``durable=False`` skips fsync: files still appear atomically, but a power cut may lose the last
        seconds of writes (acceptable when the bus that fed them redelivers)."""
        self.root = root
        self.durable = durable
        self._db = duckdb.connect(":memory:")
        self._db_lock = threading.Lock()  # cursor() on the shared connection is not itself thread-safe
        self._pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="archive-write")

    def close(self) -> None:
        """Release the writer threads and the DuckDB connection."""
        self._pool.shutdown(wait=True)
        self._db.close()

    # ---- writing ------------------------------------------------------------------------------------
    def write(self, events: list[Event]) -> list[Path]:
        """Append ``events`` (each with ``org`` and ``@timestamp``); returns the files written, one per
        (day, org) in the batch. Large batches make fewer, better-compressed files.

        When writing fails (disk full), partitions already written stay: a retried batch may store some events
        twice, recognisable by their ``@id`` (at-least-once, like the bus that feeds the archive).
        """
        if not events:
            return []
        parts = partitions(*to_table(events))
        if len(parts) == 1:
            return [self._write_part(*parts[0])]
        # Parquet encoding and fsync release the GIL: partitions of one batch are written side by side.
        return list(self._pool.map(lambda part: self._write_part(*part), parts))

    def _write_part(self, day: str, org: str, table: pa.Table) -> Path:
        directory = self.root / f"day={day}" / f"org={org}"
        directory.mkdir(parents=True, exist_ok=True)
        final = directory / f"part-{uuid.uuid4().hex}.parquet"
        _atomic_write(table, final, durable=self.durable)
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
        where, params = _conditions(since, until, filters or {}, text)
        # Only fixed SQL fragments are joined here; every caller value is a bound parameter.
        sql = f"SELECT id, org, fields, raw FROM {_SOURCE} WHERE {where} ORDER BY ts DESC, id LIMIT ? OFFSET ?"  # noqa: S608
        rows = self._fetch(sql, orgs, since, until, [*params, limit, offset])
        return [_to_event(*row) for row in rows]

    def count_by_day(self, *, orgs: set[str] | None, since: datetime, until: datetime) -> dict[date, dict[str, int]]:
        """Event counts per UTC day and organisation, ``since <= @timestamp < until``."""
        where, params = _conditions(since, until, {}, None)
        sql = f"SELECT day, org, count(*) FROM {_SOURCE} WHERE {where} GROUP BY day, org ORDER BY day, org"  # noqa: S608
        counts: dict[date, dict[str, int]] = defaultdict(dict)
        for day, org, count in self._fetch(sql, orgs, since, until, params):
            counts[day][org] = count
        return dict(counts)

    def _fetch(
        self, sql: str, orgs: set[str] | None, since: datetime, until: datetime, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Run ``sql`` over the files of the asked partitions (the first parameter is their list).

        A compaction may remove a file between listing and reading: then the files are listed again.
        """
        for attempt in range(READ_ATTEMPTS):
            files = self._files(orgs, since, until)
            if not files:
                return []
            with self._db_lock:
                cursor = self._db.cursor()
            try:
                return cursor.execute(sql, [files, *params]).fetchall()
            except duckdb.IOException:
                if attempt == READ_ATTEMPTS - 1 or all(Path(f).exists() for f in files):
                    raise
            finally:
                cursor.close()
            time.sleep(0.01 * 2**attempt)  # let the compaction finish its removals
        return []  # not reached: the last attempt returns or raises

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
            with _exclusive(org_dir / ".compact.lock") as locked:
                parts = sorted(org_dir.glob("part-*.parquet"))
                if locked and len(parts) > 1:  # another process compacting this partition: leave it to it
                    merged.append(_merge(org_dir, parts))
        return merged


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[bool]:
    """A non-blocking exclusive lock between processes (two compactions would each merge the same files)."""
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _merge(directory: Path, parts: list[Path]) -> Path:
    """Stream ``parts`` into one new file (bounded memory), rename it in, then remove exactly ``parts``.

    Always fsynced, whatever ``durable`` says: the old files are deleted, so the new one must be on disk.
    """
    final = directory / f"part-{uuid.uuid4().hex}.parquet"
    temporary = directory / f".{final.name}.tmp"
    try:
        with temporary.open("wb") as sink:
            with pq.ParquetWriter(sink, SCHEMA, **PARQUET_OPTIONS) as writer:
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


def _atomic_write(table: pa.Table, final: Path, *, durable: bool) -> None:
    temporary = final.with_name(f".{final.name}.tmp")
    try:
        with temporary.open("wb") as sink:
            pq.write_table(table, sink, **PARQUET_OPTIONS)
            if durable:
                _sync(sink)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    if durable:
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
    if len(filters) > MAX_FILTERS or (text is not None and len(text) > MAX_TEXT):
        raise ValidationFailed(f"at most {MAX_FILTERS} filters and {MAX_TEXT} characters of text", where="filters")
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
