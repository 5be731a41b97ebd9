"""``mamori websites compare`` and ``check`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mamori.cli.websites import websites
from mamori.websites.integrity import Baseline, assess

from .farm import SiteFarm
from .pages import ministry_page

DEFACED = "<html><head><title>Hacked by X</title></head><body><h1>Hacked by X</h1></body></html>"


def files(tmp_path: Path, current: str) -> tuple[str, str]:
    (tmp_path / "baseline.html").write_text(ministry_page())
    (tmp_path / "current.html").write_text(current)
    return str(tmp_path / "baseline.html"), str(tmp_path / "current.html")


def test_compare_prints_the_verdict_as_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(websites, ["compare", *files(tmp_path, DEFACED)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"defaced", "score", "reasons"} and out["defaced"] is True
    expected = assess(Baseline.approve(ministry_page(), url="https://site.invalid/"), DEFACED)
    assert out == expected.as_dict()  # the same code path as the live checker


def test_compare_clean_page_and_text_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(websites, ["compare", "--format", "text", *files(tmp_path, ministry_page())])
    assert result.exit_code == 0 and result.output.startswith("ok  score 0.000")


def test_compare_options(tmp_path: Path) -> None:
    injected = ministry_page(inject_head='<script src="https://stats.partner.example/s.js"></script>')
    args = ["compare", *files(tmp_path, injected)]
    assert json.loads(CliRunner().invoke(websites, args).output)["defaced"] is True
    allowed = CliRunner().invoke(websites, [*args, "--allow-domain", "partner.example"])
    assert json.loads(allowed.output)["defaced"] is False
    failing = CliRunner().invoke(websites, ["compare", "--fail-if-defaced", *files(tmp_path, DEFACED)])
    assert failing.exit_code == 1
    bad = CliRunner().invoke(websites, [*args, "--ignore", "div[[["])
    assert bad.exit_code == 2 and "invalid CSS selector" in bad.output


def test_check_prints_a_summary(tmp_path: Path) -> None:
    with SiteFarm() as farm:
        farm.set("/", ministry_page())
        (tmp_path / "b.html").write_text(ministry_page())
        ok = CliRunner().invoke(
            websites, ["check", farm.url("/"), "--allow-private", "--baseline", str(tmp_path / "b.html")]
        )
        refused = CliRunner().invoke(websites, ["check", farm.url("/")])
    assert ok.exit_code == 0, (ok.output, ok.exception)
    assert refused.exit_code == 0, (refused.output, refused.exception)
    out = json.loads(ok.output)
    assert out["up"] is True and out["status"] == 200 and out["verdict"]["defaced"] is False
    assert json.loads(refused.output)["failure"] == "refused"
