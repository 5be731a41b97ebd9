"""``mamori hunt`` and ``mamori rules check`` through click's runner (real files, real rules)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from mamori.cli.hunt import hunt
from mamori.cli.rules import rules
from mamori.detect.engine import CONTENT_RULES
from tests.detect.conftest import EAS, REGRESSION, SIGMAHQ, need


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small 'seized disk': EVTX files, a regression JSON twin, web logs as JSON lines, damaged files."""
    root = tmp_path_factory.mktemp("case")
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
    rules_dir = root / "rules"
    rules_dir.mkdir()
    shutil.copytree(CONTENT_RULES, rules_dir / "mamori")
    shutil.copytree(SIGMAHQ / "rules" / "windows" / "builtin" / "security", rules_dir / "security")
    shutil.copytree(SIGMAHQ / "rules" / "windows" / "process_creation", rules_dir / "process_creation")
    return root


def invoke(case: Path, *args: str) -> tuple[str, str]:
    runner = CliRunner()
    result = runner.invoke(
        hunt,
        [str(case / "logs"), "--rules", str(case / "rules"), "--cache-dir", str(case / "cache"), *args],
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
