"""What ``mamori hunt`` reads: files found under the given paths, each given to a parser chosen by sniffing.

Parsers are looked up by name in :data:`mamori.ingest.parsers.registry.PARSERS`:
``evtx`` (EVTX magic), ``windows-json`` (JSON whose records are Windows events: ``Event.System``, ``winlog``,
``EventID``/``Channel``), ``json`` (other JSON: Suricata EVE, any JSON lines), ``webaccess`` (lines that look
like a web server access log), ``syslog`` (text whose first lines look like syslog). Everything else is *skipped
with a reason*, never read as "bad records" nor silently ignored: binaries, HTML pages, text named like a log
(``*.log``, ``*.txt``, ``messages``, ``secure`` …, rotated or not) whose lines mamori cannot read ("unknown log
format"), other text (LICENSE, a git checkout's COMMIT …: "not a log"), hidden files and folders, documents and
code by suffix, configuration and manifests (``pyproject.toml``, ``package.json`` …). Gzip-compressed files
(rotated ``access.log.1.gz``) are decompressed and judged by their content and their name without ``.gz``.
``--parser NAME`` forces one parser for every file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from mamori.cli import gzipped
from mamori.core.messages import Event
from mamori.ingest.parsers import registry, syslog
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.windows import EvtxParser, KeepRecord, Unrouted

EVTX_MAGIC = registry.EVTX_MAGIC
SNIFF_BYTES = 65_536
SYSLOG_LINES_SNIFFED = 20  # any of them a syslog line: a header or a wrapped message at the top is no reason
_ACCESS_LOG = re.compile(rb'^\S+ \S+ \S+ \[[^\]]+\] "[A-Z]+ ', re.MULTILINE)
_WINDOWS_JSON = re.compile(rb'"(EventID|winlog|System|EventRecordID)"')
_HTML = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)

# What a skipped file is, for the one summary line (``skipped 3 files: 2 not a log (LICENSE, COMMIT), …``).
BINARY = "binary"
HTML = "html"
NOT_A_LOG = "not a log"
UNKNOWN_FORMAT = "unknown log format"
HIDDEN = "hidden"
UNREADABLE = "unreadable"
NO_PARSER = "no parser"
TOO_LARGE = "too large"
NOT_RECORDS = "JSON that is not records"

# Read without looking inside a folder's files of these kinds: documents, code, archives, images.
_SKIP_SUFFIXES = {
    ".zip", ".7z", ".png", ".jpg", ".jpeg", ".pdf", ".exe", ".dll", ".md", ".ps1", ".xml", ".py", ".pyc",
    ".yml", ".yaml", ".html", ".htm", ".css", ".js", ".toml", ".ini", ".cfg", ".lock", ".rst",
}  # fmt: skip
# Manifests and configuration that are JSON (one object, like a log export of one record would be): by name.
_MANIFEST_NAMES = {
    "package.json", "package-lock.json", "composer.json", "composer.lock", "tsconfig.json", "jsconfig.json",
    "bower.json", "manifest.json", "deno.json", "app.json", "appsettings.json", ".eslintrc.json",
}  # fmt: skip
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
# Text named like a log: skipped as UNKNOWN_FORMAT rather than NOT_A_LOG when no line of it can be read.
_LOG_SUFFIXES = {".log", ".txt"}
_LOG_NAMES = {
    "syslog", "messages", "secure", "maillog", "cron", "kern", "daemon", "debug", "user", "auth",
    "access_log", "error_log", "audit",
}  # fmt: skip
# Text files that are never logs, whatever their suffix (LICENSE.txt, README.txt, a git checkout's COMMIT).
_NOT_LOG_NAMES = {
    "license", "licence", "copying", "notice", "readme", "authors", "contributors", "changelog", "changes",
    "commit", "head", "makefile", "dockerfile", "requirements",
}  # fmt: skip
_ROTATION = re.compile(r"(\.\d+|-\d{8})+$")  # syslog.1, access.log.2, messages-20261123


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str
    kind: str = NOT_A_LOG


def discover(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Files under ``paths`` (folders recurse, sorted). Hidden files and folders, and files whose suffix says
    they are no log (documents, code, archives, images), come as :class:`Skipped`; a folder's hidden
    subfolder (``.git``) counts as one skipped entry and is not walked."""
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        elif path.is_file():
            yield path
        else:
            yield Skipped(str(path), "no such file or folder", UNREADABLE)


def _walk(folder: Path) -> Iterator[Path | Skipped]:
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        yield Skipped(str(folder), f"cannot read: {exc.strerror}", UNREADABLE)
        return
    for child in children:
        if child.name.startswith("."):
            yield Skipped(str(child), "hidden", HIDDEN)
        elif child.is_dir():
            yield from _walk(child)
        elif not child.is_file():
            continue  # sockets, FIFOs: nothing to read
        elif child.suffix.lower() in _HTML_SUFFIXES:
            yield Skipped(str(child), "an HTML page", HTML)
        elif child.suffix.lower() in _SKIP_SUFFIXES:
            yield Skipped(str(child), f"a {child.suffix.lower()} file", NOT_A_LOG)
        elif child.name.lower() in _MANIFEST_NAMES:
            yield Skipped(str(child), "a manifest or configuration file", NOT_A_LOG)
        else:
            yield child


def sniff(path: Path) -> str:
    """The parser name for one file, or the kind of file it is when no parser should read it (``BINARY``,
    ``HTML``, ``NOT_A_LOG`` …): from its first bytes, and for plain text from its name too. A gzip file is
    judged by its decompressed head and its name without ``.gz``."""
    if gzipped.is_gzip(path):
        head = gzipped.read_bytes(path, limit=SNIFF_BYTES)  # gzipped.Corrupt: the caller names it unreadable
        if head.startswith(EVTX_MAGIC):
            return BINARY  # EVTX is read from a file on disk, not from memory: decompress it first
        path = gzipped.inner_name(path)
    else:
        with path.open("rb", buffering=0) as fh:
            head = fh.read(len(EVTX_MAGIC))  # EVTX, the common case, needs no more (a folder has hundreds)
            if head == EVTX_MAGIC:
                return "evtx"
            head += fh.read(SNIFF_BYTES - len(head))
    if path.name.lower() in _MANIFEST_NAMES:
        return NOT_RECORDS  # named on the command line: a folder walk skips these before reading them
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if path.suffix.lower() in _HTML_SUFFIXES or _HTML.match(text[:4096]):
        return HTML
    if text[:1] in (b"{", b"["):
        if not _json_records(text, whole=len(head) < SNIFF_BYTES):
            return NOT_RECORDS
        return "windows-json" if _WINDOWS_JSON.search(text) else "json"
    if _ACCESS_LOG.search(head):
        return "webaccess"  # before the binary test: a logged request may carry NUL bytes of its own
    if _looks_binary(head):
        return BINARY  # pcap, ETL, images …: read as text they would only fill the report with "bad records"
    if _never_a_log(path):
        return NOT_A_LOG
    if _has_syslog_lines(text):
        return "syslog"
    # a log by its name whose lines mamori cannot read (IIS W3C, netlogon.log …): thousands of "bad records"
    # would hide the few that matter, so it is named as skipped instead (--parser syslog still reads it)
    return UNKNOWN_FORMAT if _named_like_a_log(path) else NOT_A_LOG


def _json_records(text: bytes, *, whole: bool) -> bool:
    """Whether JSON text holds log records rather than one document (a manifest, a configuration).

    The rule: an array whose first element is an object (``[{…}, …]``, an export), or a first line that is a
    whole JSON object by itself (JSON lines: EVE, Winlogbeat). A single object spread over many lines is a
    document (``package.json``, ``tsconfig.json``), unless it is a Windows event (``"System"``/``"EventID"``
    keys: a pretty-printed export of one event) or wraps a list of objects (``{"records": [{…}]}``).
    """
    if text[:1] == b"[":
        return text[1:].lstrip()[:1] == b"{"
    first = text.split(b"\n", 1)[0].strip()
    try:
        if isinstance(orjson.loads(first), dict):
            return True
    except orjson.JSONDecodeError:
        pass
    if _WINDOWS_JSON.search(text):
        return True
    if not whole:
        return True  # a document that large is no manifest; let the parser judge its records
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and any(
        isinstance(value, list) and value and isinstance(value[0], dict) for value in document.values()
    )


def _has_syslog_lines(text: bytes) -> bool:
    lines = [line for line in text.split(b"\n", SYSLOG_LINES_SNIFFED + 1)[:SYSLOG_LINES_SNIFFED] if line.strip()]
    received = syslog.utc_naive(None)
    return any(
        syslog.parse_message(line.rstrip(b"\r").decode("utf-8", "replace"), received=received, host=None)
        for line in lines
    )


def _base_name(path: Path) -> str:
    return _ROTATION.sub("", path.name.lower())


def _named_like_a_log(path: Path) -> bool:
    name = _base_name(path)
    stem, dot, suffix = name.rpartition(".")
    return (f".{suffix}" in _LOG_SUFFIXES and bool(dot)) or name in _LOG_NAMES or (bool(dot) and stem in _LOG_NAMES)


def _never_a_log(path: Path) -> bool:
    return _base_name(path).split(".", 1)[0] in _NOT_LOG_NAMES


def _looks_binary(head: bytes) -> bool:
    """Mostly non-text bytes (NUL and other controls), as in captures and traces; a few NULs are not enough."""
    sample = head[:4096]
    controls = sum(sample.count(bytes([b])) for b in _CONTROL_BYTES)
    return bool(sample) and controls * 8 > len(sample)  # more than 1 byte in 8


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))  # tab, LF and CR are text


def read(
    path: Path, parser_name: str | None = None, keep: KeepRecord | None = None
) -> Iterator[Event | ParseFailure | Unrouted] | Skipped:
    """Events and failures of one file, or why it is skipped.

    ``keep``: EVTX records it turns down (no rule for their channel and EventID) come as ``UNROUTED``.
    """
    origin = str(path)
    try:
        name = parser_name or sniff(path)
    except gzipped.Corrupt as exc:
        return Skipped(origin, str(exc), UNREADABLE)
    if name == "evtx":
        # streams (EVTX files can be gigabytes); hunt reports never show the original JSON of a record
        return EvtxParser(keep=keep, raw=False).parse_routed(str(path), origin=origin)
    if name in _SKIP_REASONS:
        return Skipped(origin, _SKIP_REASONS[name], name)
    if name in registry.PARSERS:
        try:
            data = gzipped.read_bytes(path)
        except gzipped.TooLarge as exc:
            return Skipped(origin, str(exc), TOO_LARGE)
        except gzipped.Corrupt as exc:
            return Skipped(origin, str(exc), UNREADABLE)
        return registry.get(name).parse(data, origin=origin)
    return Skipped(
        origin, f"needs the {name!r} parser, which is not registered in mamori.ingest.parsers.registry", NO_PARSER
    )


_SKIP_REASONS = {
    BINARY: "a binary file that is not EVTX",
    HTML: "an HTML page",
    NOT_RECORDS: "one JSON document (a manifest or configuration), not log records",
    NOT_A_LOG: "text that is not a log (no syslog, access-log or JSON lines; not named like a log)",
    UNKNOWN_FORMAT: "a log in a format mamori does not read (no syslog, access-log or JSON lines at its start)",
}
