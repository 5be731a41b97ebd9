"""``mamori websites``: the website watch from the command line (offline compare, one-off live check)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

from mamori.websites.checker import Checker
from mamori.websites.integrity import Baseline, Verdict, assess
from mamori.websites.results import CheckResult
from mamori.websites.schemas import ContentRules, SiteExpectations

PLACEHOLDER_URL = "https://site.invalid/"


@click.group("websites")
def websites() -> None:
    """Website watch: integrity (defacement) analysis and checks."""


@websites.command("compare")
@click.argument("baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("current", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--url", default=PLACEHOLDER_URL, help="URL both pages were served from (tells own links from foreign).")
@click.option("--allow-domain", multiple=True, help="External domain the page may load from (repeatable).")
@click.option("--ignore", multiple=True, help="CSS selector of a dynamic region to ignore (repeatable).")
@click.option("--critical", multiple=True, help="CSS selector of an element that must not change (repeatable).")
@click.option("--fail-if-defaced", is_flag=True, help="Exit with status 1 when the verdict is defaced.")
def compare(
    baseline: Path,
    current: Path,
    fmt: str,
    url: str,
    allow_domain: tuple[str, ...],
    ignore: tuple[str, ...],
    critical: tuple[str, ...],
    fail_if_defaced: bool,
) -> None:
    """Compare CURRENT with the approved BASELINE page, offline: the live checker's verdict, same code."""
    try:
        rules = ContentRules(ignore_selectors=ignore, critical_selectors=critical)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    approved = Baseline.approve(baseline.read_bytes(), url=url, rules=rules, allowed_domains=allow_domain)
    verdict = assess(approved, current.read_bytes())
    click.echo(_verdict_text(verdict) if fmt == "text" else json.dumps(verdict.as_dict(), ensure_ascii=False))
    if fail_if_defaced and verdict.defaced:
        raise SystemExit(1)


@websites.command("check")
@click.argument("url")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--allow-private", is_flag=True, help="The site is on an intranet: private addresses allowed.")
@click.option("--timeout", type=float, default=10.0, show_default=True)
def check(url: str, baseline: Path | None, allow_private: bool, timeout: float) -> None:
    """Check URL once (status, latency, TLS, DNS, and a verdict against --baseline) and print JSON."""
    try:
        site = SiteExpectations(site_id=url, org="-", url=url, allow_private=allow_private, timeout_seconds=timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    approved = Baseline.approve(baseline.read_bytes(), url=url) if baseline else None

    async def run() -> CheckResult:
        async with Checker() as checker:
            return await checker.check(site, baseline=approved)

    click.echo(json.dumps(result_summary(asyncio.run(run())), ensure_ascii=False, indent=2))


def result_summary(result: CheckResult) -> dict[str, Any]:
    """A check result as plain JSON-able data (no page body)."""
    tls = result.tls
    return {
        "url": result.url,
        "up": result.up,
        "status": result.status,
        "latency_ms": result.latency_ms,
        "size": result.size,
        "redirects": list(result.redirects),
        "failure": str(result.failure) if result.failure else None,
        "error": result.error,
        "tls": None
        if tls is None
        else {
            "issuer": tls.issuer,
            "subject": tls.subject,
            "days_left": tls.days_left,
            "not_after": tls.not_after.isoformat(),
            "version": tls.version,
        },
        "tls_problems": list(result.tls_problems),
        "dns": None if result.dns is None else {"a": result.dns.a, "aaaa": result.dns.aaaa, "cname": result.dns.cname},
        "dns_problems": list(result.dns_problems),
        "verdict": result.verdict.as_dict() if result.verdict else None,
    }


def _verdict_text(verdict: Verdict) -> str:
    head = f"{'DEFACED' if verdict.defaced else 'ok'}  score {verdict.score:.3f}"
    return "\n".join([head, *(f"  - {r}" for r in verdict.reasons)])
