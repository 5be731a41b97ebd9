"""Learn a page's dynamic regions by comparing successive known-good fetches.

A block whose text differs between two fetches that are otherwise the same page (a "latest news" box, a
visitor counter, a rotating banner) is noise for similarity: its DOM path is marked volatile and left out of
text and structure comparison from then on. Markers and foreign references are still looked for inside
volatile regions (see :mod:`mamori.websites.page`), so learning never blinds the watch to an injection.

Two guard rails keep learning from swallowing the page: a fetch only teaches when its verdict is clean, and
a path is only learned when it covers at most :data:`MAX_SHARE` of the page's text lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.websites.integrity import Baseline, verdict_of
from mamori.websites.normalise import volatile_free
from mamori.websites.page import Page, read_page

MAX_SHARE = 0.3


def learn_volatile(baseline: Baseline, fetches: Sequence[bytes | str]) -> frozenset[str]:
    """The baseline's volatile paths plus those learned from ``fetches`` (oldest first, same URL)."""
    learned = set(baseline.volatile_paths)
    previous = baseline.page  # its blocks carry every line, volatile or not
    for html in fetches:
        if verdict_of(baseline, baseline.read(html)).defaced:
            continue  # never learn from a page that may be compromised
        current = read_page(html, url=baseline.url, ignore=baseline.rules.ignore_selectors, with_blocks=True)
        learned |= _changed_paths(previous, current)
        previous = current
    return frozenset(learned)


def _changed_paths(a: Page, b: Page) -> set[str]:
    before = {(path, volatile_free(text)) for path, text in a.blocks}
    after = {(path, volatile_free(text)) for path, text in b.blocks}
    candidates = {path for path, _ in before ^ after}
    paths = [path for path, _ in before]
    if not paths:
        return set()
    return {c for c in candidates if _covered(c, paths) <= MAX_SHARE}


def _covered(candidate: str, paths: list[str]) -> float:
    prefix = candidate + ">"
    return sum(1 for p in paths if p == candidate or p.startswith(prefix)) / len(paths)


def learn_bounded(baseline: Baseline, html: bytes | str) -> frozenset[str]:
    """:func:`learn_volatile` from one fetch, unless the result would make over :data:`MAX_SHARE` of the page
    volatile *in total* (each path alone may pass the per-path limit while together they swallow the page:
    a redesign would then teach the watch to ignore everything)."""
    learned = learn_volatile(baseline, [html])
    paths = [path for path, _ in baseline.page.blocks]
    if not paths or learned == baseline.volatile_paths:
        return baseline.volatile_paths
    covered = sum(1 for p in paths if any(p == c or p.startswith(c + ">") for c in learned))
    return learned if covered / len(paths) <= MAX_SHARE else baseline.volatile_paths
