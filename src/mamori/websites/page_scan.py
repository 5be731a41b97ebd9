"""The accumulator behind :func:`mamori.websites.page.read_page`: what one walk over the tree collects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mamori.websites.normalise import collapse, host_of, without_query

_BLOCK_TAGS = (
    "address article aside blockquote body br caption center dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html li main marquee nav ol p pre section summary table "
    "tbody td tfoot th thead title tr ul option select button label legend"
)
block_tags = frozenset(_BLOCK_TAGS.split())  # elements that start a new line of text
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top|text-indent)\s*:\s*-\d{3,}"
    r"|font-size\s*:\s*0(?![.\d])|(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)|opacity\s*:\s*0(?![.\d])",
    re.IGNORECASE,
)
_FOLD_DIGITS = str.maketrans("123456789", "000000000")
_AUDIO_FILE = re.compile(r"\.(?:mp3|wav|ogg|m4a|aac|mid|midi|wma)(?:[?#]|$)", re.IGNORECASE)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
_BLOCKING = re.compile(r"return\s+false", re.IGNORECASE)
_BLACK_VALUES = frozenset({"#000", "#000000", "black"})


def element_sig(el: Any, tag: str) -> str:
    """Tag plus id or first class, digits folded (``div#main``, ``li.news-item``): node-123 stays stable."""
    ident = el.get("id")
    if ident:
        return f"{tag}#{ident.strip()[:40].translate(_FOLD_DIGITS)}"
    cls = el.get("class")
    if cls:
        first = cls.split(None, 1)
        return f"{tag}.{first[0][:40].translate(_FOLD_DIGITS)}" if first else tag
    return tag


# A frame of the open-element stack: (signature, DOM path, is block, is hidden, is unstable). A tuple, not a
# dataclass: this is built once per element and dominates the cost of reading a page.
_Frame = tuple[str, str, bool, bool, bool]
_ROOT: _Frame = ("", "", True, False, False)
_RAW_TEXT = frozenset({"script", "style", "noscript", "template", "textarea"})
MAX_DEPTH = 400  # deeper elements are not read (browsers stop nesting far earlier)


@dataclass
class Scan:
    base_host: str
    ignored: set[Any]
    volatile_paths: frozenset[str]
    track_paths: bool = False  # DOM paths cost a string per element: built only for learning or applying them
    lines: list[str] = field(default_factory=list)
    stable_lines: list[str] = field(default_factory=list)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    structure: dict[str, int] = field(default_factory=dict)
    title: str = ""
    meta: list[tuple[str, str]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    refs: dict[str, set[str]] = field(default_factory=dict)
    hidden_links: list[str] = field(default_factory=list)
    inline_script: str = ""
    style_text: str = ""
    black: bool = False
    marquees: int = 0
    autoplay: int = 0
    blocks_input: bool = False
    _buf: list[str] = field(default_factory=list)

    # --- the walk ----------------------------------------------------------------------------------------
    def visit(self, el: Any, parent: _Frame = _ROOT, depth: int = 0) -> None:
        """Read ``el`` and its subtree. Recursive (a loop of start/end events costs twice as much per
        element); depth is capped so hostile nesting cannot exhaust the stack."""
        tag = el.tag  # the HTML parser gives lower-case names
        p_sig, p_path, _, p_hidden, p_unstable = parent
        hidden = p_hidden
        if el.keys():  # most elements carry no attribute at all: skip four lookups
            sig = element_sig(el, tag)
            style = el.get("style")
            hidden = hidden or (style is not None and _is_hidden_style(style)) or el.get("hidden") is not None
        else:
            sig = tag
        unstable = p_unstable or (bool(self.ignored) and el in self.ignored)
        path = ""
        if self.track_paths:
            path = f"{p_path}>{sig}" if len(p_path) < 600 else p_path
            unstable = unstable or path in self.volatile_paths
        block = tag in block_tags
        buf = self._buf
        if block and buf:
            self._flush(parent)
        frame = (sig, path, block, hidden, unstable)
        if not unstable:
            pair = f"{p_sig}>{sig}"
            structure = self.structure
            structure[pair] = structure.get(pair, 0) + 1
        handler = _HANDLERS.get(tag)
        if handler is not None:
            handler(self, el, hidden)
        text = el.text
        if tag in _RAW_TEXT:
            self.raw_text(tag, text or "")
        else:
            if text and not text.isspace():
                buf.append(text)
            for child in el:
                if child.tag.__class__ is str and depth < MAX_DEPTH:
                    self.visit(child, frame, depth + 1)
                tail = child.tail  # comments and processing instructions: only their tail is text
                if tail and not tail.isspace():
                    buf.append(tail)
        if block and buf:
            self._flush(frame)

    def raw_text(self, tag: str, value: str) -> None:
        """Text of script/style/noscript: never visible, but telling."""
        if tag == "script":
            self.inline_script += value[:200_000]
        elif tag == "style":
            self.style_text += value[:200_000]
        elif tag == "textarea" and value.strip():
            self._buf.append(value)

    # --- helpers -------------------------------------------------------------------------------------
    def _flush(self, frame: _Frame) -> None:
        line = collapse(" ".join(self._buf))
        self._buf.clear()
        if not line:
            return
        sig, path, _, _, unstable = frame
        if sig == "title" and not self.title:
            self.title = line
            return
        self.lines.append(line)
        if self.track_paths:
            self.blocks.append((path, line))  # normalised only when learning, which is rare
        if not unstable:
            self.stable_lines.append(line)

    def ref(self, kind: str, url: str | None) -> str:
        """Record where ``url`` points if it leaves the site; returns the host."""
        if not url or url.startswith(("data:", "javascript:", "#", "mailto:", "tel:")):
            return ""
        host = host_of(url, self.base_host)
        if host and host != self.base_host:
            self.refs.setdefault(kind, set()).add(host)
        return host


def _is_hidden_style(style: str) -> bool:
    return bool(_HIDDEN_STYLE.search(style[:2000]))


def _script(scan: Scan, el: Any, hidden: bool) -> None:
    src = el.get("src")
    if src:
        scan.ref("script", src)
        scan.scripts.append(without_query(src))


def _frame(scan: Scan, el: Any, hidden: bool) -> None:
    tiny = str(el.get("width", "")).strip() in ("0", "1") or str(el.get("height", "")).strip() in ("0", "1")
    kind = "hidden_frame" if hidden or tiny else "frame"
    scan.ref(kind, el.get("src"))


def _embed(scan: Scan, el: Any, hidden: bool) -> None:
    src = el.get("src") or el.get("data") or ""
    scan.ref("embed", src)
    if _AUDIO_FILE.search(src) or "audio" in str(el.get("type", "")):
        scan.autoplay += 1


def _media(scan: Scan, el: Any, hidden: bool) -> None:
    if el.get("autoplay") is not None or el.tag == "bgsound":
        scan.autoplay += 1
    scan.ref("embed", el.get("src"))


def _form(scan: Scan, el: Any, hidden: bool) -> None:
    scan.ref("form", el.get("action"))


def _link(scan: Scan, el: Any, hidden: bool) -> None:
    href = el.get("href")
    if href and "stylesheet" in str(el.get("rel", "")).lower():
        scan.ref("style", href)
        scan.stylesheets.append(without_query(href))


def _anchor(scan: Scan, el: Any, hidden: bool) -> None:
    href = el.get("href")
    if hidden and href:
        host = host_of(href, scan.base_host)
        if host and host != scan.base_host:
            scan.hidden_links.append(without_query(href)[:300])


def _meta(scan: Scan, el: Any, hidden: bool) -> None:
    name = str(el.get("name") or el.get("property") or "").lower()
    content = str(el.get("content") or "")
    if name:
        scan.meta.append((name, content[:500]))
    if str(el.get("http-equiv", "")).lower() == "refresh":
        match = _REFRESH_URL.search(content)
        if match:
            scan.ref("refresh", match.group(1))


def _body(scan: Scan, el: Any, hidden: bool) -> None:
    bg = str(el.get("bgcolor", "")).strip().lower()
    scan.black = scan.black or bg in _BLACK_VALUES
    style = str(el.get("style", ""))
    if style:
        scan.style_text += f"\nbody {{{style}}}"
    handlers = " ".join(str(el.get(a, "")) for a in ("oncontextmenu", "onmousedown", "onkeydown", "onselectstart"))
    scan.blocks_input = scan.blocks_input or bool(_BLOCKING.search(handlers))


def _marquee(scan: Scan, el: Any, hidden: bool) -> None:
    scan.marquees += 1


_HANDLERS = {
    "script": _script,
    "iframe": _frame,
    "frame": _frame,
    "embed": _embed,
    "object": _embed,
    "audio": _media,
    "video": _media,
    "bgsound": _media,
    "form": _form,
    "link": _link,
    "a": _anchor,
    "meta": _meta,
    "body": _body,
    "html": _body,
    "marquee": _marquee,
}
