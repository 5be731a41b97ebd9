"""Integrity (defacement) analysis: compare a fetched page with its approved baseline.

Each piece of evidence is a :class:`Finding` with a weight in 0..1; the score combines them as independent
evidence (``1 - Π(1 - w)``), so two weak signals make a medium one and no pile of weak signals reaches
certainty. ``defaced`` means the score reached :data:`DEFACED_AT`: the page's integrity is broken, whether by
a visible defacement or by injected content (foreign script, hidden link spam).

The weights encode what separates an attack from an editor's work:
- Defacement wording counts fully only when it *stands alone* (a title, a heading, a banner line) or when the
  page was replaced; inside a sentence of a normal article ("the site was hacked by criminals last year") it
  weighs little, and wording already present in the baseline does not count at all.
- Replacement needs *both* the text and the DOM shape to change: an editor changes one or the other.
- Foreign code (script, hidden frame, form target, refresh) from a domain neither the baseline nor the
  site's allowed list knows is an injection whatever the text says.
The live checker and ``mamori websites compare`` both call :func:`assess`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mamori.websites.enums import FindingKind
from mamori.websites.integrity_rules import findings_for
from mamori.websites.page import Page, read_page
from mamori.websites.schemas import ContentRules

DEFACED_AT = 0.5


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one comparison; ``reasons`` are sentences an analyst can read on a wall screen."""

    defaced: bool
    score: float
    reasons: list[str]
    findings: tuple[Finding, ...] = ()
    text_similarity: float = 1.0
    structure_similarity: float = 1.0

    def kinds(self) -> frozenset[FindingKind]:
        return frozenset(f.kind for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"defaced": self.defaced, "score": self.score, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Baseline:
    """An approved page, read once: every check compares against the same parsed facts."""

    url: str
    page: Page
    html_sha256: str
    rules: ContentRules = field(default_factory=ContentRules)
    allowed_domains: frozenset[str] = frozenset()
    volatile_paths: frozenset[str] = frozenset()
    subresources: Mapping[str, str] = field(default_factory=dict)  # URL without query -> SHA-256

    @classmethod
    def approve(
        cls,
        html: bytes | str,
        *,
        url: str,
        rules: ContentRules | None = None,
        allowed_domains: tuple[str, ...] | frozenset[str] = (),
        volatile_paths: frozenset[str] = frozenset(),
        subresources: Mapping[str, str] | None = None,
    ) -> Baseline:
        rules = rules or ContentRules()
        data = html.encode("utf-8", "replace") if isinstance(html, str) else html
        page = read_page(
            data,
            url=url,
            ignore=rules.ignore_selectors,
            volatile_paths=volatile_paths,
            critical=rules.critical_selectors,
            with_blocks=True,
        )
        return cls(
            url=url,
            page=page,
            html_sha256=hashlib.sha256(data).hexdigest(),
            rules=rules,
            allowed_domains=frozenset(d.lower() for d in allowed_domains),
            volatile_paths=volatile_paths,
            subresources=dict(subresources or {}),
        )

    def read(self, html: bytes | str, *, encoding: str | None = None) -> Page:
        """Read a fetched page under the same rules as the baseline (``encoding``: the HTTP charset)."""
        return read_page(
            html,
            encoding=encoding,
            url=self.url,
            ignore=self.rules.ignore_selectors,
            volatile_paths=self.volatile_paths,
            critical=self.rules.critical_selectors,
        )


def assess(baseline: Baseline, html: bytes | str, *, subresources: Mapping[str, str] | None = None) -> Verdict:
    """Compare ``html`` (untrusted bytes) with ``baseline``; never raises on bad input."""
    return verdict_of(baseline, baseline.read(html), subresources=subresources)


def verdict_of(baseline: Baseline, current: Page, *, subresources: Mapping[str, str] | None = None) -> Verdict:
    evidence, text_sim, struct_sim = findings_for(
        baseline.page,
        current,
        allowed_domains=baseline.allowed_domains,
        baseline_subresources=baseline.subresources,
        current_subresources=subresources or {},
    )
    findings = tuple(Finding(kind, weight, reason) for kind, weight, reason in evidence)
    remaining = 1.0
    for f in findings:
        remaining *= 1.0 - min(max(f.weight, 0.0), 1.0)
    score = round(1.0 - remaining, 3)
    ordered = sorted(findings, key=lambda f: -f.weight)
    return Verdict(
        defaced=score >= DEFACED_AT,
        score=score,
        reasons=[f.reason for f in ordered],
        findings=tuple(ordered),
        text_similarity=round(text_sim, 3),
        structure_similarity=round(struct_sim, 3),
    )
