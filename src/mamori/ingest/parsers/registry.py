"""The input formats this package reads, by name, and a guess of the format from the first bytes.

``PARSERS`` is a plain dict from format name to parser instance (parsers keep no state between calls). The
Windows formats (``evtx``, Windows JSON) are registered by their own module; :func:`sniff` already names
``evtx`` so that the caller can route it.
"""

from __future__ import annotations

import re

from mamori.ingest.parsers import syslog, webaccess
from mamori.ingest.parsers.base import Parser
from mamori.ingest.parsers.jsonlines import JsonLinesParser
from mamori.ingest.parsers.suricata import SuricataParser
from mamori.ingest.parsers.syslog import SyslogParser
from mamori.ingest.parsers.webaccess import WebAccessParser

PARSERS: dict[str, Parser] = {
    JsonLinesParser.name: JsonLinesParser(),
    SuricataParser.name: SuricataParser(),
    SyslogParser.name: SyslogParser(),
    WebAccessParser.name: WebAccessParser(),
}

UNKNOWN = "unknown"
EVTX_MAGIC = b"ElfFile\x00"
_SNIFF_BYTES = 64 * 1024  # enough for the first line of any sane log; bounds the work on hostile input
_SYSLOG_PRI = re.compile(rb"<\d{1,3}>")


def sniff(data: bytes) -> str:
    """Guess the format of ``data``: ``evtx``, ``json``, ``syslog``, ``webaccess`` or ``unknown``.

    Suricata EVE is JSON: the ``json`` parser recognises EVE records and normalises them as Suricata.
    """
    if data.startswith(EVTX_MAGIC):
        return "evtx"
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
