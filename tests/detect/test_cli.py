"""``mamori hunt`` and ``mamori rules check`` through click's runner (real files, real rules)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from mamori.cli.hunt import hunt
from mamori.cli.main import main
from mamori.cli.rules import rules
from mamori.detect.engine import CONTENT_RULES
from tests.detect.conftest import EAS, REGRESSION, SIGMAHQ, need

# the hunt tests share one worker (one case folder, one warm cache)
pytestmark = pytest.mark.xdist_group("hunt-cli")


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory, sigma_cache: Path) -> Path:
    """A small 'seized disk': EVTX files, a regression JSON twin, web logs as JSON lines, damaged files."""
    root = tmp_path_factory.mktemp("case")
    (root / "sigma-cache.txt").write_text(str(sigma_cache))
    logs = root / "logs"
    (logs / "win").mkdir(parents=True)
    for path in sorted(need(EAS).rglob("*.evtx"))[:12]:
        shutil.copy(path, logs / "win" / path.name)
    twin = next((need(REGRESSION) / "rules" / "windows" / "process_creation").rglob("*.json"))
    shutil.copy(twin, logs / "win" / "twin.json")
    web = [
        {
            "source": "webserver",
            "c-ip": "192.0.2.7",
            "cs-method": "GET",
            "sc-status": 200,
            "c-uri": "/x?id=1%20union%20select%201",
            "@timestamp": "2026-11-23T10:00:00Z",
        },
        {"source": "webserver", "c-ip": "192.0.2.8", "cs-method": "GET", "sc-status": 200, "c-uri": "/"},
    ]
    (logs / "web.jsonl").write_bytes(b"\n".join(orjson.dumps(w) for w in web) + b"\n{not json}\n")
    first = sorted(EAS.rglob("*.evtx"))[0].read_bytes()
    (logs / "damaged.evtx").write_bytes(first[: 4096 + 1200] + bytes(2000) + first[4096 + 3200 :])  # zeroed records
    return root


# rule folders read in place, so that the session's persistent compiled-rule cache stays warm between runs
RULE_DIRS = [
    CONTENT_RULES,
    SIGMAHQ / "rules" / "windows" / "builtin" / "security",
    SIGMAHQ / "rules" / "windows" / "process_creation",
]


def invoke(case: Path, *args: str) -> tuple[str, str]:
    rule_args = [arg for folder in RULE_DIRS for arg in ("--rules", str(folder))]
    cache = case / "sigma-cache.txt"
    result = CliRunner().invoke(
        hunt,
        [str(case / "logs"), *rule_args, "--cache-dir", cache.read_text(), *args],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout, result.stderr


@pytest.mark.shared_data
def test_hunt_jsonl(case: Path) -> None:
    out, err = invoke(case, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows, err
    for row in rows:
        assert set(row) >= {"rule_id", "rule_title", "level", "timestamp", "source", "record_id", "event"}
        assert "raw" not in row["event"]
    assert any(r["rule_title"] == "SQL Injection Attempt in Request" for r in rows)
    assert any(isinstance(r["record_id"], int) and r["source"].endswith(".evtx") for r in rows)
    assert any(r["source"].endswith("twin.json") for r in rows)
    assert "bad records:" in err and "1 bad records in" in err  # the web file's broken line
    stamps = [r["timestamp"] for r in rows]
    assert stamps == sorted(stamps)


@pytest.mark.shared_data
def test_hunt_damaged_evtx_is_reported_not_fatal(case: Path) -> None:
    _, err = invoke(case, "--format", "jsonl")
    assert "damaged.evtx" in err


@pytest.mark.shared_data
def test_hunt_csv_table_min_level_and_jobs(case: Path, tmp_path: Path) -> None:
    jsonl, _ = invoke(case, "--format", "jsonl")
    invoke(case, "--format", "csv", "--output", str(tmp_path / "hits.csv"), "--jobs", "2")
    with (tmp_path / "hits.csv").open() as fh:
        table = list(csv.reader(fh))
    assert table[0][:4] == ["timestamp", "level", "rule_title", "rule_id"]
    assert len(table) - 1 == len(jsonl.splitlines())  # same hits with two worker processes
    high, _ = invoke(case, "--format", "jsonl", "--min-level", "high")
    assert 0 < len(high.splitlines()) < len(jsonl.splitlines())
    assert all(json.loads(line)["level"] in ("high", "critical") for line in high.splitlines())
    text, _ = invoke(case, "--format", "table")
    assert text.splitlines()[0].split()[:3] == ["timestamp", "level", "rule"]
    assert text.rstrip().endswith(f"{len(jsonl.splitlines())} hits")


def test_rules_check_reports_each_refusal(tmp_path: Path) -> None:
    (tmp_path / "ok.yml").write_text(
        "title: ok\nid: 30000000-0000-4000-8000-000000000001\n"
        "logsource: {category: webserver}\ndetection: {s: {a: 1}, condition: s}\n"
    )
    (tmp_path / "cloudless.yml").write_text(
        "title: nowhere\nid: 30000000-0000-4000-8000-000000000002\n"
        "logsource: {product: nowhere}\ndetection: {s: {a: 1}, condition: s}\n"
    )
    (tmp_path / "broken.yml").write_text(
        "title: broken\nlogsource: {category: webserver}\ndetection: {s: {a: 1}, condition: s and nothere}\n"
    )
    result = CliRunner().invoke(rules, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "cloudless.yml: 30000000-0000-4000-8000-000000000002 log source product=nowhere" in result.output
    assert "broken.yml" in result.output
    assert "3 rules read: 1 usable" in result.output


def test_rules_check_content_is_clean() -> None:
    result = CliRunner().invoke(rules, ["check", str(CONTENT_RULES)])
    assert result.exit_code == 0, result.output
    assert "0 refused" in result.output


def test_table_is_readable() -> None:
    from mamori.cli.hunt import table

    text = table(
        [
            {
                "timestamp": "2026-11-23T10:00:00.123456Z",
                "level": "high",
                "rule_title": "T" * 80,
                "event": {"host": "ws1"},
                "source": "/x/a.evtx",
                "record_id": 7,
            }
        ]
    )
    assert "a.evtx:7" in text and "…" in text
    _ = io.StringIO(text)


# --- a folder as a person hands it over: logs among other files (content rules only, no shared data) ---------

SQLI = {
    "source": "webserver",
    "c-ip": "192.0.2.7",
    "cs-method": "GET",
    "sc-status": 200,
    "c-uri": "/x?id=1%20union%20select%201",
    "@timestamp": "2026-11-23T10:00:00Z",
}


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    (root / "web").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n" * 200)
    (root / "COMMIT").write_text("758c5e7 i18n: one message lookup\n")
    (root / "web" / "index.html").write_text("<!doctype html><html><body>ok</body></html>\n")
    (root / "web" / "tool").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(2000))
    second = dict(SQLI, **{"c-ip": "192.0.2.9"})
    (root / "web" / "hits.jsonl").write_bytes(orjson.dumps(SQLI) + b"\n" + orjson.dumps(second) + b"\n")
    (root / "messages").write_text("Nov 23 08:00:00 host sshd[1]: Failed password for root from 192.0.2.1\n")
    return root


def hunt_cli(*args: str) -> Result:
    """``mamori hunt`` through the command group, as typed (so errors are reported as a person sees them)."""
    return CliRunner().invoke(main, ["hunt", *args, "--rules", str(CONTENT_RULES), "--no-cache"])


def test_hunt_reads_the_logs_and_names_what_it_skipped_in_one_line(mixed: Path) -> None:
    result = hunt_cli(str(mixed), "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert (
        "skipped 5 files: 2 not a log (COMMIT, LICENSE), 1 binary (tool), 1 hidden (.git), 1 html (index.html)"
        in result.stderr.splitlines()
    )
    assert "files: 2 read, 5 skipped; records: 3; bad records: 0; hits: 2" in result.stderr


def test_hunt_hits_carry_attack_tags_and_the_run_ends_with_a_results_summary(mixed: Path, tmp_path: Path) -> None:
    jsonl = hunt_cli(str(mixed), "--format", "jsonl")
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]  # every stdout line is a hit, nothing else
    assert [r["rule_title"] for r in rows] == ["SQL Injection Attempt in Request"] * 2
    assert all(r["tags"] == ["attack.initial-access", "attack.t1190"] for r in rows)
    summary = jsonl.stderr[jsonl.stderr.index("results summary") :].splitlines()
    assert summary[0] == "results summary: 2 hits, 1 rules"
    assert summary[2].split() == ["critical", "0", "0"] and summary[3].split() == ["high", "2", "1"]
    assert summary[-2] == "hits per rule:"
    assert summary[-1].split(maxsplit=2) == ["high", "2", "SQL Injection Attempt in Request"]

    text = hunt_cli(str(mixed))
    assert text.stdout.splitlines()[0].split() == ["timestamp", "level", "rule", "host", "where", "tags"]
    assert "initial-access t1190" in text.stdout.splitlines()[2]
    assert "results summary: 2 hits, 1 rules" in text.stderr
    hunt_cli(str(mixed), "--format", "csv", "--output", str(tmp_path / "hits.csv"))
    with (tmp_path / "hits.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [row["tags"] for row in table] == ["attack.initial-access attack.t1190"] * 2


def test_hunt_over_a_path_that_does_not_exist_is_an_error(mixed: Path) -> None:
    result = hunt_cli(str(mixed), "/nonexistent/case")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == "error: no such file or folder: /nonexistent/case"


def test_hunt_over_a_folder_without_logs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("Apache License\n")
    result = hunt_cli(str(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == "error: no log file to read: all 1 files were skipped"
