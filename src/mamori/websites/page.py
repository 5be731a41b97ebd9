"""Read an HTML page once into the facts integrity analysis compares.

One pass over the tree (depth-capped, so hostile nesting cannot exhaust the stack) collects the
visible text by block, the DOM shape, every external reference (scripts, frames, forms, styles, refresh),
hidden links and the styling defacers favour. Regions matched by ignore rules or learned as volatile are left
out of the *similarity* facts only: markers and foreign references are still looked for inside them, since a
dynamic news ticker is exactly where an injection would hide.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from mamori.websites.markers import MarkerHit, default_markers
from mamori.websites.normalise import collapse, comparable_words, shingles, volatile_free, without_query
from mamori.websites.page_scan import Scan
from mamori.websites.selectors import compile_selector

MAX_HTML_BYTES = 8 * 1024 * 1024  # beyond this the rest of the page is not read (the checker caps bodies too)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}charset", re.IGNORECASE)
# Hosts that inline scripts load from: absolute URLs, or protocol-relative ones inside a string literal.
# Comments go first, so "// update document.title" or a credited URL in a comment is not a reference.
_INLINE_URL = re.compile(r"(?:https?://|[\"'`]//)([a-z0-9][a-z0-9.-]*\.[a-z]{2,})", re.IGNORECASE)
_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\/])//[^\n]*", re.DOTALL)
_BLACK = re.compile(
    r"(?:body|html)[^{}]{0,80}\{[^}]{0,400}?background(?:-color)?\s*:\s*(?:#000(?:000)?\b|black\b|rgb\(\s*0\s*,\s*0\s*,\s*0\s*\))",
    re.IGNORECASE,
)
_META_NAMES = frozenset({"description", "keywords", "og:title", "og:description", "twitter:title", "og:site_name"})


@dataclass(frozen=True, slots=True)
class Page:
    """What one fetch of a page looks like, reduced to comparable facts."""

    url: str
    title: str = ""
    marker_lines: tuple[str, ...] = ()  # title, meta descriptions and every visible text line
    marker_hits: tuple[MarkerHit, ...] = ()
    shingles: frozenset[tuple[str, ...]] = frozenset()  # of the stable (not ignored, not volatile) text
    word_count: int = 0
    blocks: frozenset[tuple[str, str]] = frozenset()  # (DOM path, text line) for volatile learning
    structure: Counter[str] = field(default_factory=Counter)
    element_count: int = 0  # elements outside ignored and volatile regions
    scripts: frozenset[str] = frozenset()  # script URLs as written, without query
    stylesheets: frozenset[str] = frozenset()
    refs: dict[str, frozenset[str]] = field(default_factory=dict)  # kind -> external hosts referenced
    hidden_links: frozenset[str] = frozenset()
    black_page: bool = False
    marquees: int = 0
    autoplay: int = 0
    blocks_input: bool = False
    critical: tuple[tuple[str, str], ...] = ()  # (selector, fingerprint)

    def hosts(self, kind: str) -> frozenset[str]:
        return self.refs.get(kind, frozenset())


def read_page(
    html: bytes | str,
    *,
    url: str,
    ignore: Sequence[str] = (),
    volatile_paths: frozenset[str] = frozenset(),
    critical: Sequence[str] = (),
    with_blocks: bool = False,
    encoding: str | None = None,
) -> Page:
    """Parse ``html`` (any bytes at all) into a :class:`Page`; unreadable input yields an empty page.

    ``with_blocks`` records each text line's DOM path (:attr:`Page.blocks`), which learning needs;
    ``encoding`` is the charset of the HTTP ``Content-Type``, when the server sent one.
    """
    root = _parse(html, encoding)
    if root is None:
        return Page(url=url, critical=tuple((sel, "missing") for sel in critical))
    base_host = (urlsplit(url).hostname or "").lower()
    # The set holds the element proxies themselves: lxml hands out the same proxy for a node only while a
    # reference to it is alive, so ids of dropped proxies would be reused by others.
    ignored = {el for sel in ignore for el in _select(root, sel)}
    track = with_blocks or bool(volatile_paths)
    scan = Scan(base_host=base_host, ignored=ignored, volatile_paths=volatile_paths, track_paths=track)
    if isinstance(root.tag, str):
        scan.visit(root)
    return _page(url, scan, [(sel, _fingerprint(root, sel)) for sel in critical])


def _parse(html: bytes | str, encoding: str | None = None) -> Any:
    if isinstance(html, str):
        data, encoding = html.encode("utf-8", "surrogatepass")[:MAX_HTML_BYTES], "utf-8"
    else:
        data = html[:MAX_HTML_BYTES]
        encoding = _encoding_of(data, encoding)
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, _parser(encoding))
    except (etree.ParserError, ValueError, LookupError):
        return None


def _encoding_of(data: bytes, declared: str | None) -> str | None:
    """Which encoding to read ``data`` with, as a browser would: a byte-order mark first, then the HTTP
    header's charset, then the page's own ``<meta charset>`` (None: lxml reads it), else UTF-8 when the bytes
    are valid UTF-8. libxml2 alone falls back to Latin-1, which turns every Arabic, Persian, Chinese or
    Japanese defacement into mojibake that no marker matches."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return None
    if declared:
        return declared
    if _META_CHARSET.search(data[:4096]):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"  # what browsers assume for undeclared legacy pages
    return "utf-8"


@lru_cache(maxsize=64)
def _parser(encoding: str | None) -> etree.HTMLParser:
    try:
        return etree.HTMLParser(recover=True, no_network=True, encoding=encoding)
    except LookupError:  # an encoding name lxml does not know: let it guess
        return etree.HTMLParser(recover=True, no_network=True)


def _select(root: Any, css: str) -> list[Any]:
    found = compile_selector(css)(root)
    return [el for el in found if isinstance(el, etree._Element)] if isinstance(found, list) else []


def _fingerprint(root: Any, css: str) -> str:
    """Text and references of the elements a critical selector matches; "missing" when none match."""
    parts = []
    for el in _select(root, css):
        text = volatile_free(" ".join(el.itertext()))
        refs = [without_query(str(el.get(a, ""))) for a in ("src", "href", "action")]
        parts.append(f"{el.tag}|{text}|{'|'.join(refs)}")
    return "\n".join(parts) if parts else "missing"


def _page(url: str, scan: Scan, critical: list[tuple[str, str]]) -> Page:
    stable_words = comparable_words(" ".join(scan.stable_lines))
    meta = [collapse(v) for k, v in scan.meta if k in _META_NAMES]
    title = collapse(scan.title)
    code = _JS_COMMENT.sub(" ", scan.inline_script)
    inline_hosts = frozenset(m.lower() for m in _INLINE_URL.findall(code))
    refs = {kind: frozenset(hosts) for kind, hosts in scan.refs.items()}
    refs["script"] = refs.get("script", frozenset()) | inline_hosts
    marker_lines = (title, *meta, *scan.lines)
    return Page(
        url=url,
        title=title,
        marker_lines=marker_lines,
        marker_hits=tuple(default_markers().hits(marker_lines)),
        shingles=shingles(stable_words),
        word_count=len(stable_words),
        blocks=frozenset(scan.blocks),
        structure=Counter(scan.structure),
        element_count=sum(scan.structure.values()),
        scripts=frozenset(scan.scripts),
        stylesheets=frozenset(scan.stylesheets),
        refs=refs,
        hidden_links=frozenset(scan.hidden_links),
        black_page=scan.black or bool(_BLACK.search(scan.style_text)),
        marquees=scan.marquees,
        autoplay=scan.autoplay,
        blocks_input=scan.blocks_input,
        critical=tuple(critical),
    )
