"""``mamori rules``: Sigma rule packs. ``mamori rules check DIR…`` lists every rule that cannot run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from mamori.detect.build import compile_dirs


@click.group("rules")
def rules() -> None:
    """Sigma rule packs."""


@click.command("check")
@click.argument("dirs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", is_flag=True, help="Only the summary.")
def check(dirs: tuple[Path, ...], quiet: bool) -> None:
    """Load and compile every rule under DIRS; report each one that does not load or compile, with the reason.

    Exit status 1 when any rule is refused.
    """
    compiled = compile_dirs(list(dirs))
    if not quiet:
        for refusal in sorted(compiled.refused, key=lambda r: r.path):
            ident = f" {refusal.rule_id}" if refusal.rule_id else ""
            click.echo(f"{refusal.path}:{ident} {refusal.reason}")
    loaded = len({p.rule_id for p in compiled.plans}) + len(compiled.correlations)
    click.echo(
        f"{compiled.rule_count} rules read: {loaded} usable ({len(compiled.plans)} log source variants, "
        f"{len(compiled.correlations)} correlations), {len(compiled.refused)} refused"
    )
    reasons = Counter(_category(r.reason) for r in compiled.refused)
    for reason, count in reasons.most_common():
        click.echo(f"  {count:5d}  {reason}")
    if compiled.refused:
        raise SystemExit(1)


def _category(reason: str) -> str:
    """Group refusal reasons for the summary (the varying part of a reason is cut off)."""
    for marker in (" is not mapped", ": ", " ("):
        if marker in reason:
            return reason.split(marker)[0] + (marker if marker == " is not mapped" else "")
    return reason[:80]


rules.add_command(check)
