"""The work of ``mamori hunt``: run the engine over files, in this process or in ``--jobs`` worker processes.

Each worker builds the engine once (from the on-disk cache the parent filled) and returns, per file, the rule
hits and the counts of records and bad records. Correlations run in the parent over all hits sorted by time,
so they see across files whatever the number of jobs.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mamori.cli.hunt_input import UNREADABLE, Skipped, discover, read
from mamori.core.messages import Event
from mamori.core.severity import Severity
from mamori.detect.engine import Engine
from mamori.ingest.parsers.windows import Unrouted

MAX_FAILURE_SAMPLES = 5
BATCH = 2048  # records evaluated together: enough for column-wise prefiltering, little memory


@dataclass(frozen=True)
class Settings:
    rule_dirs: tuple[Path, ...]
    cache_dir: Path | None
    min_level: Severity | None
    parser: str | None


@dataclass
class FileResult:
    path: str
    records: int = 0
    bad: int = 0
    hits: list[tuple[str, Event]] = field(default_factory=list)  # (rule id, event)
    failures: list[str] = field(default_factory=list)  # a few reasons, for the report
    skipped: Skipped | None = None


class Batch:
    """Routed records waiting for the engine, from one file or several.

    Why across files: evidence folders hold many small logs, and the engine is fastest on a few hundred events
    at a time (it views each route's events as columns). A file's result is complete once a flush has covered
    its last record.
    """

    def __init__(self, engine: Engine, size: int = BATCH) -> None:
        self.engine = engine
        self.size = size
        self.events: list[Event] = []
        self.owners: list[FileResult] = []

    def add(self, event: Event, owner: FileResult) -> None:
        self.events.append(event)
        self.owners.append(owner)
        if len(self.events) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.events:
            return
        for event, owner, plans in zip(self.events, self.owners, self.engine.evaluate_many(self.events), strict=True):
            if plans:
                # hits are kept until the timeline is sorted: without `raw` (never printed) memory stays small;
                # the event is ours (read from the file for this batch), so it loses `raw` in place
                event.pop("raw", None)
                owner.hits.extend((plan.rule_id, event) for plan in plans)
        self.events.clear()
        self.owners.clear()


def hunt_file(engine: Engine, path: Path, parser: str | None, batch: Batch | None = None) -> FileResult:
    """Read one file; its records go to ``batch`` (flushed here when it is this file's own)."""
    own = batch is None
    batch = Batch(engine) if batch is None else batch
    result = FileResult(str(path))
    try:
        items = read(path, parser, keep=engine.applies)
    except OSError as exc:
        result.skipped = Skipped(str(path), f"cannot read: {exc.strerror or exc}", UNREADABLE)
        return result
    if isinstance(items, Skipped):
        result.skipped = items
        return result
    try:
        for item in items:
            if isinstance(item, dict):
                result.records += 1
                batch.add(item, result)
            elif isinstance(item, Unrouted):  # no rule reads its channel and EventID: a record, never a hit
                result.records += 1
            else:
                result.bad += 1
                if len(result.failures) < MAX_FAILURE_SAMPLES:
                    result.failures.append(f"{item.where}: {item.reason}")
    except OSError as exc:  # a file that vanishes or fails mid-read: report what was read
        result.failures.append(f"read error: {exc}")
        result.bad += 1
    if own:
        batch.flush()
    return result


def hunt_files(engine: Engine, paths: Iterable[Path], parser: str | None) -> Iterator[FileResult]:
    """:func:`hunt_file` over many files in this process, their records evaluated in shared batches."""
    batch = Batch(engine)
    waiting: list[FileResult] = []
    for path in paths:
        waiting.append(hunt_file(engine, path, parser, batch))
        if not batch.events:  # everything read so far is evaluated
            yield from waiting
            waiting.clear()
    batch.flush()
    yield from waiting


_worker_engine: Engine | None = None
_worker_parser: str | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_engine, _worker_parser
    _worker_engine = Engine(settings.rule_dirs, cache_dir=settings.cache_dir, min_level=settings.min_level)
    _worker_parser = settings.parser


def _work(path: Path) -> FileResult:
    assert _worker_engine is not None
    return hunt_file(_worker_engine, path, _worker_parser)


Progress = Callable[[FileResult, int], None]


def run(
    engine: Engine, settings: Settings, paths: Sequence[Path], jobs: int, progress: Progress | None = None
) -> tuple[list[FileResult], list[Skipped]]:
    files: list[Path] = []
    skipped: list[Skipped] = []
    for found in discover(paths):
        (skipped if isinstance(found, Skipped) else files).append(found)  # type: ignore[arg-type]
    results: list[FileResult] = []
    for result in _results(engine, settings, files, jobs):
        results.append(result)
        if progress is not None:
            progress(result, len(files))
    return results, skipped


def _results(engine: Engine, settings: Settings, files: list[Path], jobs: int) -> Iterator[FileResult]:
    if jobs <= 1 or len(files) <= 1:
        yield from hunt_files(engine, files, settings.parser)
        return
    context = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
    with context.Pool(jobs, initializer=_init_worker, initargs=(settings,)) as pool:
        # biggest files first so that one large file does not finish alone at the end
        ordered = sorted(files, key=lambda p: p.stat().st_size, reverse=True)
        yield from pool.imap_unordered(_work, ordered, chunksize=1)


class ProgressBar:
    """One status line on stderr, redrawn at most twice a second (only on a terminal unless forced)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.files = self.records = self.hits = 0

    def __call__(self, result: FileResult, total: int) -> None:
        self.files += 1
        self.records += result.records
        self.hits += len(result.hits)
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.5 or self.files == total):
            self.last = now
            rate = self.records / max(now - self.start, 1e-6)
            width = 24
            done = int(width * self.files / max(total, 1))
            bar = "#" * done + "-" * (width - done)
            sys.stderr.write(
                f"\r[{bar}] {self.files}/{total} files  {self.records:,} records  {rate:,.0f}/s  {self.hits:,} hits "
            )
            if self.files == total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def timestamp_of(event: Event) -> str:
    stamp = event.get("@timestamp")
    return stamp if isinstance(stamp, str) else ""


def rows(engine: Engine, results: Sequence[FileResult]) -> list[dict[str, Any]]:
    """One row per hit (rule hits, then correlation detections), sorted into a timeline."""
    plans = {p.rule_id: p for p in engine.rules.plans}
    correlations = engine.correlations
    hits = sorted(((timestamp_of(e), r.path, rid, e) for r in results for rid, e in r.hits), key=lambda h: (h[0], h[1]))
    out: list[dict[str, Any]] = []
    for stamp, path, rule_id, event in hits:
        plan = plans[rule_id]
        if correlations.emits(plan):
            out.append(_row(rule_id, plan.title, plan.level, attack_tags(plan.tags), stamp, path, event))
        for detection in correlations.feed(event, [plan]):
            last = detection.events[-1] if detection.events else event
            out.append(
                _row(
                    detection.rule_id,
                    detection.rule_title,
                    detection.severity.value,
                    attack_tags(detection.tags),
                    timestamp_of(last),
                    path,
                    last,
                    group=dict(detection.entities),
                    count=len(detection.events),
                )
            )
    return out


def attack_tags(tags: Iterable[str]) -> list[str]:
    """The rule's MITRE ATT&CK tags (``attack.t1059.001``, ``attack.execution``), in the rule's order."""
    return [tag for tag in tags if tag.lower().startswith("attack.")]


def _row(
    rule_id: str, title: str, level: str, tags: list[str], stamp: str, path: str, event: Event, **extra: Any
) -> dict[str, Any]:
    row = {
        "rule_id": rule_id,
        "rule_title": title,
        "level": level,
        "tags": tags,
        "timestamp": stamp,
        "source": path,
        "record_id": event.get("EventRecordID"),
        "event": event,
    }
    row.update(extra)
    return row
