"""The individual comparisons of integrity analysis, each returning weighted evidence.

Weights are the single place where sensitivity is tuned; ``docs/website-watch.md`` explains them and the
test suite (real defacement pages, real legitimate edits) pins them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from urllib.parse import urlsplit

from mamori.websites.enums import FindingKind
from mamori.websites.markers import MarkerHit
from mamori.websites.normalise import matches_domain, site_domain, volatile_free
from mamori.websites.page import Page

Evidence = tuple[FindingKind, float, str]

W_PHRASE_ALONE = 0.55  # "Hacked by X" as a title, heading or banner
W_PHRASE_IN_TEXT = 0.12  # the same words inside a sentence of an article
W_SIGNATURE_ALONE = 0.25  # "We are Legion", "greetz", "zone-h" on a line of their own
W_SIGNATURE_IN_TEXT = 0.05
W_REPLACED = 0.5  # times the replaced fraction, counted from half replaced upwards
REPLACED_FROM = 0.5
ALL_MARKERS_COUNT_FROM = 0.6  # once this much is replaced, every marker counts as standing alone
W_EMPTIED = 0.3
W_TITLE = 0.05
W_BLACK, W_MARQUEE, W_AUTOPLAY, W_BLOCKS_INPUT = 0.15, 0.15, 0.2, 0.1
W_FOREIGN = {
    "script": 0.6,
    "hidden_frame": 0.6,
    "refresh": 0.6,
    "form": 0.45,
    "frame": 0.3,
    "embed": 0.1,
    "style": 0.1,
}
_FOREIGN_NOUN = {
    "script": "script",
    "hidden_frame": "hidden iframe",
    "refresh": "meta refresh redirect",
    "form": "form posting",
    "frame": "iframe",
    "embed": "embedded media",
    "style": "stylesheet",
}
W_LINK_SPAM, W_FEW_HIDDEN_LINKS, LINK_SPAM_FROM = 0.6, 0.2, 3
W_CRITICAL = 0.7
W_SUBRESOURCE = 0.4


def findings_for(
    base: Page,
    cur: Page,
    *,
    allowed_domains: frozenset[str],
    baseline_subresources: Mapping[str, str],
    current_subresources: Mapping[str, str],
) -> tuple[list[Evidence], float, float]:
    text_sim = text_similarity(base, cur)
    struct_sim = structure_similarity(base.structure, cur.structure)
    replaced = 1.0 - max(text_sim, struct_sim)
    evidence: list[Evidence] = []
    evidence += _replacement(base, cur, replaced)
    evidence += _markers(base, cur, replaced >= ALL_MARKERS_COUNT_FROM)
    evidence += _styling(base, cur)
    evidence += _foreign(base, cur, allowed_domains)
    evidence += _link_spam(base, cur)
    evidence += _critical(base, cur)
    evidence += _subresources(baseline_subresources, current_subresources)
    return evidence, text_sim, struct_sim


def text_similarity(base: Page, cur: Page) -> float:
    """How much of either text survives in the other (containment, so added or removed news scores high)."""
    a, b = base.shingles, cur.shingles
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    common = len(a & b)
    return max(common / len(a), common / len(b))


def structure_similarity(a: Counter[str], b: Counter[str]) -> float:
    """Weighted Jaccard over parent>child element signatures (``div#main>ul.news``)."""
    if not a and not b:
        return 1.0
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 1.0


def _replacement(base: Page, cur: Page, replaced: float) -> list[Evidence]:
    out: list[Evidence] = []
    if replaced >= REPLACED_FROM:
        out.append((FindingKind.REPLACED, W_REPLACED * replaced, f"page content replaced ({replaced:.0%} differs)"))
    if base.word_count >= 5 and cur.word_count == 0:
        out.append((FindingKind.EMPTIED, W_EMPTIED, "the page lost all its text"))
    if volatile_free(base.title) != volatile_free(cur.title):
        out.append((FindingKind.TITLE, W_TITLE, f"title changed from {base.title[:80]!r} to {cur.title[:80]!r}"))
    return out


def _markers(base: Page, cur: Page, all_count: bool) -> list[Evidence]:
    before_all, before_alone = _marker_counts(base.marker_hits, all_count=False)
    hits = cur.marker_hits
    after_all, after_alone = _marker_counts(hits, all_count=all_count)
    out: list[Evidence] = []
    for marker_id, n in after_all.items():
        alone = after_alone.get(marker_id, 0) > before_alone.get(marker_id, 0)
        if not alone and n <= before_all.get(marker_id, 0):
            continue
        hit = next(h for h in hits if h.marker.id == marker_id and (h.standalone or all_count or not alone))
        out.append(_marker_evidence(hit, alone))
    return out


def _marker_counts(hits: tuple[MarkerHit, ...], *, all_count: bool) -> tuple[Counter[str], Counter[str]]:
    total: Counter[str] = Counter(h.marker.id for h in hits)
    alone: Counter[str] = Counter(h.marker.id for h in hits if h.standalone or all_count)
    return total, alone


def _marker_evidence(hit: MarkerHit, alone: bool) -> Evidence:
    phrase = hit.marker.kind == "phrase"
    if alone:
        weight = W_PHRASE_ALONE if phrase else W_SIGNATURE_ALONE
        where = "standing alone"
    else:
        weight = W_PHRASE_IN_TEXT if phrase else W_SIGNATURE_IN_TEXT
        where = "inside running text"
    noun = "defacement phrase" if phrase else "defacer signature"
    return FindingKind.MARKER, weight, f"{noun} {hit.line[:100]!r} ({hit.marker.id}) {where}"


def _styling(base: Page, cur: Page) -> list[Evidence]:
    out: list[Evidence] = []
    if cur.black_page and not base.black_page:
        out.append((FindingKind.STYLING, W_BLACK, "page turned black (typical defacement styling)"))
    if cur.marquees > base.marquees:
        out.append((FindingKind.STYLING, W_MARQUEE, "scrolling <marquee> text appeared"))
    if cur.autoplay > base.autoplay:
        out.append((FindingKind.STYLING, W_AUTOPLAY, "auto-playing audio or media appeared"))
    if cur.blocks_input and not base.blocks_input:
        out.append((FindingKind.STYLING, W_BLOCKS_INPUT, "page now blocks right-click and keyboard"))
    return out


def _known_domains(base: Page, allowed: frozenset[str]) -> frozenset[str]:
    own = site_domain((urlsplit(base.url).hostname or "").lower())
    known = set(allowed) | {own}
    for hosts in base.refs.values():
        known |= hosts
    return frozenset(known)


def _foreign(base: Page, cur: Page, allowed: frozenset[str]) -> list[Evidence]:
    known = _known_domains(base, allowed)
    out: list[Evidence] = []
    for kind, weight in W_FOREIGN.items():
        new = sorted(h for h in cur.hosts(kind) - base.hosts(kind) if not matches_domain(h, known))
        if new:
            shown = ", ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
            out.append((FindingKind.FOREIGN_SCRIPT, weight, f"new {_FOREIGN_NOUN[kind]} from unknown domain {shown}"))
    return out


def _link_spam(base: Page, cur: Page) -> list[Evidence]:
    new = cur.hidden_links - base.hidden_links
    if not new:
        return []
    weight = W_LINK_SPAM if len(new) >= LINK_SPAM_FROM else W_FEW_HIDDEN_LINKS
    return [
        (
            FindingKind.LINK_SPAM,
            weight,
            f"{len(new)} new hidden link(s) to external sites, e.g. {min(new)[:100]}",
        )
    ]


def _critical(base: Page, cur: Page) -> list[Evidence]:
    before = dict(base.critical)
    return [
        (FindingKind.CRITICAL, W_CRITICAL, f"critical element {selector!r} changed")
        for selector, fingerprint in cur.critical
        if selector in before and before[selector] != fingerprint
    ]


def _subresources(before: Mapping[str, str], after: Mapping[str, str]) -> list[Evidence]:
    changed = sorted(url for url, digest in after.items() if url in before and before[url] != digest)
    if not changed:
        return []
    return [
        (
            FindingKind.SUBRESOURCE,
            W_SUBRESOURCE,
            f"same-site resource changed content: {', '.join(changed[:3])}",
        )
    ]
