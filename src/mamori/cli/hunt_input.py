"""What ``mamori hunt`` reads: files found under the given paths, each given to a parser chosen by sniffing.

Parsers are looked up by name in :data:`mamori.ingest.parsers.registry.PARSERS`:
``evtx`` (EVTX magic), ``windows-json`` (JSON whose records are Windows events: ``Event.System``, ``winlog``,
``EventID``/``Channel``), ``json`` (other JSON: Suricata EVE, any JSON lines), ``webaccess`` (lines that look
like a web server access log), ``syslog`` (other text). A parser that is not registered makes the file *skipped
with a reason*, never silently ignored. ``--parser NAME`` forces one parser for every file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mamori.core.messages import Event
from mamori.ingest.parsers import registry
from mamori.ingest.parsers.base import ParseFailure
from mamori.ingest.parsers.windows import EvtxParser, KeepRecord, Unrouted

EVTX_MAGIC = registry.EVTX_MAGIC
SNIFF_BYTES = 65_536
_ACCESS_LOG = re.compile(rb'^\S+ \S+ \S+ \[[^\]]+\] "[A-Z]+ ', re.MULTILINE)
_WINDOWS_JSON = re.compile(rb'"(EventID|winlog|System|EventRecordID)"')
_SKIP_SUFFIXES = {
    ".gz",
    ".zip",
    ".7z",
    ".png",
    ".jpg",
    ".jpeg",
    ".pdf",
    ".exe",
    ".dll",
    ".md",
    ".ps1",
    ".xml",
    ".py",
    ".pyc",
    ".yml",
    ".yaml",
}


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str


def discover(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Files under ``paths`` (folders recurse, sorted; hidden files and obvious non-logs are skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not child.name.startswith(".") and child.suffix.lower() not in _SKIP_SUFFIXES:
                    yield child
        elif path.is_file():
            yield path
        else:
            yield Skipped(str(path), "no such file or folder")


BINARY = "binary"


def sniff(path: Path) -> str:
    """The parser name for one file, from its first bytes (``BINARY``: no log format mamori reads)."""
    with path.open("rb", buffering=0) as fh:
        head = fh.read(len(EVTX_MAGIC))  # EVTX, the common case, needs no more (an evidence folder has hundreds)
        if head == EVTX_MAGIC:
            return "evtx"
        head += fh.read(SNIFF_BYTES - len(head))
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return "windows-json" if _WINDOWS_JSON.search(text) else "json"
    if _ACCESS_LOG.search(head):
        return "webaccess"  # before the binary test: a logged request may carry NUL bytes of its own
    if _looks_binary(head):
        return BINARY  # pcap, ETL, images …: read as text they would only fill the report with "bad records"
    return "syslog"


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
    name = parser_name or sniff(path)
    origin = str(path)
    if name == "evtx":
        # streams (EVTX files can be gigabytes); hunt reports never show the original JSON of a record
        return EvtxParser(keep=keep, raw=False).parse_routed(str(path), origin=origin)
    if name == BINARY:
        return Skipped(origin, "a binary file that is not EVTX (use --parser NAME to read it anyway)")
    if name in registry.PARSERS:
        return registry.get(name).parse(path.read_bytes(), origin=origin)
    return Skipped(origin, f"needs the {name!r} parser, which is not registered in mamori.ingest.parsers.registry")
