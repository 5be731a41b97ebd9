"""Oracle 2: the same rules, converted by pySigma's SQLite backend with the same pipelines, run in SQLite.

Used by ``bench/bench_hunt.py`` (the SQLite-backend approach, timed) and ``tests/detect/test_differential``.
The records are our flattened events, one row each (one ``TEXT COLLATE NOCASE`` column per field, as Zircolite
builds its table; a ``fulltext`` column joins every non-envelope value for keyword rules). REGEXP is provided
with Python's ``re``.
"""

from __future__ import annotations

import copy
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.backends.sqlite import sqliteBackend

from mamori.cli.hunt_run import BATCH
from mamori.detect import loader, routing
from mamori.detect.engine import Engine
from mamori.detect.matchers import ENVELOPE, KEYWORDS

FULLTEXT = "fulltext"


@dataclass
class Converted:
    queries: list[tuple[str, str]] = field(default_factory=list)  # (rule id, SQL)
    failed: dict[str, str] = field(default_factory=dict)  # rule id → reason
    seconds: float = 0.0


def _sql_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)  # beyond SQLite INTEGER
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_db(events: Sequence[dict[str, Any]], extra_columns: Sequence[str] = ()) -> sqlite3.Connection:
    # SQLite column names are case-insensitive (SourceProcessGUID in Sysmon 10, SourceProcessGuid in 8): one
    # column per name ignoring case. Our engine keeps field names case-sensitive (see docs/sigma-support.md).
    columns: dict[str, str] = {}
    for name in extra_columns:  # fields rules read that no record has: NULL columns, as in Zircolite's table
        columns.setdefault(name.lower(), name)
    for event in events:
        for name in event:
            if name != "raw":
                columns.setdefault(name.lower(), name)
    names = [*columns.values(), FULLTEXT]
    conn = sqlite3.connect(":memory:")
    conn.create_function("REGEXP", 2, _regexp, deterministic=True)
    # TEXT COLLATE NOCASE columns as Zircolite builds them: values compare as text (EventID 4624 = '4624'),
    # equality ignores ASCII case.
    conn.execute(f"CREATE TABLE logs ({', '.join(_quote(n) + ' TEXT COLLATE NOCASE' for n in names)})")
    rows = []
    for event in events:
        text = "\n".join(str(v) for k, v in event.items() if k not in ENVELOPE and v is not None)
        by_lower = {k.lower(): v for k, v in event.items()}
        rows.append([_sql_value(by_lower.get(n.lower())) for n in names[:-1]] + [text])
    conn.executemany(f"INSERT INTO logs VALUES ({', '.join('?' for _ in names)})", rows)
    return conn


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_REGEX_CACHE: dict[str, re.Pattern[str] | None] = {}


def _regexp(pattern: str, value: Any) -> bool:
    if value is None:
        return False
    compiled = _REGEX_CACHE.get(pattern, ...)
    if compiled is ...:
        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = None
        _REGEX_CACHE[pattern] = compiled
    return compiled is not None and compiled.search(str(value)) is not None


def convert(engine: Engine, rule_dirs: Sequence[Path]) -> Converted:
    """Convert every Windows rule variant the engine runs, with the same pipeline variant."""
    start = time.perf_counter()
    wanted: dict[str, set[str]] = {}
    for plan in engine.rules.plans:
        if plan.route.channels:
            wanted.setdefault(plan.path, set()).add(plan.variant)
    pipelines = routing.load_pipelines()
    out = Converted()
    loaded = loader.load([Path(p) for p in sorted(wanted)] if wanted else rule_dirs)
    for path, rule in loaded.rules:
        rule_id = str(rule.id)
        for variant in sorted(wanted.get(path, ())):
            backend = sqliteBackend(pipelines[variant], fulltext_field=FULLTEXT)
            try:
                for query in backend.convert_rule(copy.deepcopy(rule)):
                    out.queries.append((rule_id, _rowids(str(query))))
            except Exception as exc:  # a backend limitation: recorded, explained in docs
                out.failed[rule_id] = f"{type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - start
    return out


def _rowids(query: str) -> str:
    head = "SELECT * FROM logs WHERE "
    if not query.startswith(head):
        raise ValueError(f"unexpected query shape: {query[:80]}")
    return "SELECT rowid - 1 FROM logs WHERE " + query[len(head) :]


def run_queries(
    conn: sqlite3.Connection, queries: Sequence[tuple[str, str]]
) -> tuple[set[tuple[str, int]], dict[str, str]]:
    verdicts: set[tuple[str, int]] = set()
    errors: dict[str, str] = {}
    for rule_id, sql in queries:
        try:
            verdicts.update((rule_id, row) for (row,) in conn.execute(sql))
        except sqlite3.Error as exc:
            errors[rule_id] = f"sqlite: {exc}"
    return verdicts, errors


def engine_verdicts(engine: Engine, events: Sequence[dict[str, Any]], rule_ids: set[str]) -> set[tuple[str, int]]:
    """Our verdicts, through the batch path hunt and the pipeline use (routes viewed as columns)."""
    out: set[tuple[str, int]] = set()
    for start in range(0, len(events), BATCH):
        for row, plans in enumerate(engine.evaluate_many(events[start : start + BATCH]), start):
            out.update((plan.rule_id, row) for plan in plans if plan.rule_id in rule_ids)
    return out


@dataclass
class Comparison:
    both: int
    engine_only: list[tuple[str, int]]
    sqlite_only: list[tuple[str, int]]
    compared_rules: int
    not_converted: dict[str, str]
    convert_seconds: float = 0.0
    sql_seconds: float = 0.0  # load the table and run every query
    engine_seconds: float = 0.0

    @property
    def agreement(self) -> float:
        union = self.both + len(self.engine_only) + len(self.sqlite_only)
        return 1.0 if union == 0 else self.both / union


def missing_columns(queries: Sequence[tuple[str, str]], columns: set[str]) -> set[str]:
    """Fields some query names that no record or plan has: found on an empty table, so timing stays clean."""
    columns = set(columns)
    for _ in range(5):
        _, errors = run_queries(build_db([], sorted(columns)), queries)
        missing = {m.group(1) for e in errors.values() if (m := re.search(r"no such column: (\S+)", e))}
        if not missing - columns:
            break
        columns |= missing
    return columns


def compare(engine: Engine, events: Sequence[dict[str, Any]], rule_dirs: Sequence[Path]) -> Comparison:
    converted = convert(engine, rule_dirs)
    named = {f for p in engine.rules.plans for f in (p.reads or ()) if f != KEYWORDS}  # KEYWORDS: our own view
    columns = missing_columns(converted.queries, named)
    start = time.perf_counter()
    conn = build_db(events, sorted(columns))
    sql, errors = run_queries(conn, converted.queries)
    sql_seconds = time.perf_counter() - start
    not_converted = {**converted.failed, **errors}
    compared = {rid for rid, _ in converted.queries} - set(not_converted)
    start = time.perf_counter()
    ours = engine_verdicts(engine, events, compared)
    engine_seconds = time.perf_counter() - start
    theirs = {v for v in sql if v[0] in compared}
    return Comparison(
        len(ours & theirs),
        sorted(ours - theirs),
        sorted(theirs - ours),
        len(compared),
        not_converted,
        converted.seconds,
        sql_seconds,
        engine_seconds,
    )
