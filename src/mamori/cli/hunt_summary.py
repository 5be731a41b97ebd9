"""The closing lines of ``mamori hunt`` on stderr: what was skipped, and the results summary.

The summary is what Hayabusa users read first: hits and distinct rules per level, worst level first, then each
rule with its hit count (worst level, then most hits first), so the few critical hits are never lost below a
long timeline.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mamori.cli.hunt_input import Skipped
from mamori.core.severity import Severity
from mamori.i18n import _, ngettext

NAMES_SHOWN = 3  # per kind of skipped file


def skipped_summary(skipped: Sequence[Skipped]) -> str:
    """``skipped 3 files: 2 not a log (LICENSE, COMMIT), 1 html (index.html)``: most common kind first."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for item in skipped:
        by_kind[item.kind].append(_name(item.path))
    parts = []
    for kind, names in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        shown = ", ".join(names[:NAMES_SHOWN]) + (", …" if len(names) > NAMES_SHOWN else "")
        parts.append(f"{len(names)} {kind} ({shown})")
    head = ngettext("skipped %(num)s file", "skipped %(num)s files", len(skipped))
    return f"{head}: {', '.join(parts)}"


def _name(path: str) -> str:
    return Path(path).name or path


def results_summary(found: Sequence[dict[str, Any]]) -> str:
    """Hits per level and per rule, as text lines (each ending in a newline)."""
    levels = [s.value for s in sorted(Severity, key=lambda s: s.rank, reverse=True)]
    hits: Counter[str] = Counter()
    rules: dict[str, set[str]] = defaultdict(set)
    per_rule: Counter[tuple[str, str, str]] = Counter()
    for row in found:
        level = Severity.parse(row["level"]).value
        hits[level] += 1
        rules[level].add(row["rule_id"])
        per_rule[(level, row["rule_title"], row["rule_id"])] += 1
    distinct = len({row["rule_id"] for row in found})
    lines = [_("results summary: %(hits)s hits, %(rules)s rules", hits=f"{len(found):,}", rules=distinct)]
    width = max(len(level) for level in levels)
    lines.append(f"  {_('level'):<{width}}  {_('hits'):>8}  {_('rules'):>6}")
    for level in levels:
        lines.append(f"  {level:<{width}}  {hits[level]:>8,}  {len(rules[level]):>6,}")
    if per_rule:
        lines.append(_("hits per rule:"))
        rank = {level: n for n, level in enumerate(levels)}
        ordered = sorted(per_rule.items(), key=lambda item: (rank[item[0][0]], -item[1], item[0][1]))
        for (level, title, _rule_id), count in ordered:
            lines.append(f"  {level:<{width}}  {count:>8,}  {title}")
    return "".join(line + "\n" for line in lines)
