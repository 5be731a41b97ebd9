"""The input formats mamori reads, by name, and a guess of the format from the first bytes.

``PARSERS`` is a plain dict from format name to parser instance (parsers keep no state between calls); every
reader (the HTTP ingest, the syslog listener, `mamori ingest`, `mamori hunt`) looks parsers up here.
"""

from __future__ import annotations

import re

from mamori.ingest.parsers import syslog, webaccess
from mamori.ingest.parsers.base import Parser
from mamori.ingest.parsers.jsonlines import JsonLinesParser
from mamori.ingest.parsers.suricata import SuricataParser
from mamori.ingest.parsers.syslog import SyslogParser
from mamori.ingest.parsers.webaccess import WebAccessParser
from mamori.ingest.parsers.windows import EvtxParser, WindowsJsonParser

PARSERS: dict[str, Parser] = {
    JsonLinesParser.name: JsonLinesParser(),
    SuricataParser.name: SuricataParser(),
    SyslogParser.name: SyslogParser(),
    WebAccessParser.name: WebAccessParser(),
    EvtxParser.name: EvtxParser(),
    WindowsJsonParser.name: WindowsJsonParser(),
}

UNKNOWN = "unknown"
EVTX_MAGIC = b"ElfFile\x00"
_SNIFF_BYTES = 64 * 1024  # enough for the first line of any sane log; bounds the work on hostile input
_SYSLOG_PRI = re.compile(rb"<\d{1,3}>")


def get(name: str) -> Parser:
    """A parser by name; KeyError names the known parsers."""
    try:
        return PARSERS[name]
    except KeyError:
        raise KeyError(f"unknown parser {name!r}; known: {', '.join(sorted(PARSERS))}") from None


def sniff(data: bytes) -> str:
    """Guess the format of ``data``: ``evtx``, ``json``, ``syslog``, ``webaccess`` or ``unknown``.

    Suricata EVE and Windows JSON are JSON: the ``json`` parser recognises such records and normalises them.
    """
    if data.startswith(EVTX_MAGIC):
        return EvtxParser.name
    head = data[:_SNIFF_BYTES].removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[:1] in (b"{", b"["):
        return JsonLinesParser.name
    if _SYSLOG_PRI.match(head):
        return SyslogParser.name
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if webaccess.parse_line(first, received="", host=None) is not None:
        return WebAccessParser.name
    if syslog.parse_message(first.decode("utf-8", "replace"), received=syslog.utc_naive(None), host=None):
        return SyslogParser.name
    return UNKNOWN
