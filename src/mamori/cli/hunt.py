"""``mamori hunt``: run Sigma rules over EVTX, JSON and text logs offline (the forensics mode).

    mamori hunt ./case-42/logs --rules ../sigma/rules --format jsonl --output hits.jsonl --jobs 2

Output: ``table`` (a timeline), ``jsonl`` (one object per hit: rule_id, rule_title, level, tags, timestamp,
source, record_id, event) or ``csv``; ``tags`` are the rule's MITRE ATT&CK tags. The hits go to stdout (or
``--output``); everything for the person running it goes to stderr: the rules loaded, one line naming the files
skipped and why, the counts of records and bad records, and a results summary (hits per level and per rule,
as Hayabusa ends its runs). Bad records and skipped files never stop the run; a path that does not exist, or
paths holding no log file at all, end it with ``error: …`` and a non-zero status.
"""

from __future__ import annotations

import csv
import gc
import io
import sys
from pathlib import Path
from typing import Any, TextIO

import click
import orjson

from mamori.cli.hunt_input import Skipped
from mamori.cli.hunt_run import FileResult, ProgressBar, Settings, rows, run
from mamori.cli.hunt_summary import results_summary, skipped_summary
from mamori.core.errors import ValidationFailed
from mamori.core.severity import Severity
from mamori.detect.build import default_cache_dir
from mamori.detect.engine import Engine
from mamori.i18n import _

LEVELS = [s.value for s in Severity]
CSV_COLUMNS = ["timestamp", "level", "rule_title", "rule_id", "source", "record_id", "host", "event", "tags"]


@click.command("hunt")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rule_dirs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Rule directory or file (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]), default="table", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write hits here (default stdout).")
@click.option("--min-level", type=click.Choice(LEVELS), help="Only report hits at or above this level.")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Worker processes.")
@click.option("--parser", "parser_name", help="Force one parser for every file (default: sniff each file).")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Compiled-rule cache (default: $XDG_CACHE_HOME/mamori/sigma).",
)
@click.option("--no-cache", is_flag=True, help="Compile the rules without reading or writing the cache.")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr (default: when a terminal).")
def hunt(
    paths: tuple[Path, ...],
    rule_dirs: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    min_level: str | None,
    jobs: int,
    parser_name: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    progress: bool | None,
) -> None:
    """Hunt through log files (folders recurse) with Sigma rules."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ValidationFailed(_("no such file or folder: %(paths)s", paths=", ".join(missing)))
    cache = None if no_cache else (cache_dir or default_cache_dir())
    engine = Engine(list(rule_dirs), cache_dir=cache)
    _report_rules(engine)
    settings = Settings(tuple(rule_dirs), cache, None, parser_name)
    bar = ProgressBar(sys.stderr.isatty() if progress is None else progress)
    # The loaded rule set is ~100,000 objects that live as long as the run: frozen, the cyclic collector stops
    # re-walking them each time a batch of events is allocated (a few percent of a hunt's time).
    gc.freeze()
    try:
        results, skipped = run(engine, settings, list(paths), jobs, bar)
    finally:
        gc.unfreeze()
    _report_files(results, skipped)
    found = rows(engine, results)
    if min_level:
        floor = Severity(min_level).rank
        found = [r for r in found if Severity.parse(r["level"]).rank >= floor]
    if output is None:
        _write(found, fmt, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as fh:
            _write(found, fmt, fh)
    _report_run(results, skipped, found)


def _report_rules(engine: Engine) -> None:
    stats = engine.stats()
    click.echo(
        f"rules: {stats['rules_loaded']} loaded ({stats['variants']} log source variants), "
        f"{stats['correlations']} correlations, {stats['refused']} refused "
        f"(see: mamori rules check)",
        err=True,
    )


def _all_skipped(results: list[FileResult], skipped: list[Skipped]) -> list[Skipped]:
    return skipped + [r.skipped for r in results if r.skipped is not None]


def _report_files(results: list[FileResult], skipped: list[Skipped]) -> None:
    """What was not read, in one line; then no log at all is an error (a wrong folder, not '0 hits')."""
    passed = _all_skipped(results, skipped)
    if passed:
        click.echo(skipped_summary(passed), err=True)
    if not any(r.skipped is None for r in results):
        if passed:
            raise ValidationFailed(_("no log file to read: all %(count)s files were skipped", count=len(passed)))
        raise ValidationFailed(_("no file to read under the given paths"))


def _report_run(results: list[FileResult], skipped: list[Skipped], found: list[dict[str, Any]]) -> None:
    read = [r for r in results if r.skipped is None]
    records = sum(r.records for r in read)
    bad = sum(r.bad for r in read)
    click.echo(
        _(
            "files: %(read)s read, %(skipped)s skipped; records: %(records)s; bad records: %(bad)s; hits: %(hits)s",
            read=len(read),
            skipped=len(_all_skipped(results, skipped)),
            records=f"{records:,}",
            bad=f"{bad:,}",
            hits=f"{len(found):,}",
        ),
        err=True,
    )
    for result in read:
        if result.bad:
            click.echo(f"  {result.bad} bad records in {result.path}: {'; '.join(result.failures[:2])}", err=True)
    click.echo(results_summary(found), err=True, nl=False)


def _event_json(event: dict[str, Any]) -> bytes:
    return orjson.dumps({k: v for k, v in event.items() if k != "raw"}, default=str)


def _write(found: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for row in found:
            row = dict(row, event={k: v for k, v in row["event"].items() if k != "raw"})
            out.write(orjson.dumps(row, default=str).decode() + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in found:
            writer.writerow(
                [
                    row["timestamp"],
                    row["level"],
                    row["rule_title"],
                    row["rule_id"],
                    row["source"],
                    row["record_id"] if row["record_id"] is not None else "",
                    row["event"].get("host", ""),
                    _event_json(row["event"]).decode(),
                    " ".join(row["tags"]),
                ]
            )
    else:
        out.write(table(found))


def table(found: list[dict[str, Any]]) -> str:
    """A readable timeline: time, level, rule, host, where (file:record)."""
    buf = io.StringIO()
    header = ("timestamp", "level", "rule", "host", "where", "tags")
    lines = [header] + [
        (
            r["timestamp"][:23],
            r["level"],
            _clip(r["rule_title"], 60),
            _clip(str(r["event"].get("host") or ""), 24),
            f"{Path(r['source']).name}" + (f":{r['record_id']}" if r["record_id"] is not None else ""),
            _clip(" ".join(t.removeprefix("attack.") for t in r.get("tags", ())), 40),
        )
        for r in found
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        buf.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() + "\n")
        if number == 0:
            buf.write("  ".join("-" * w for w in widths) + "\n")
    buf.write(f"{len(found)} hits\n")
    return buf.getvalue()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
