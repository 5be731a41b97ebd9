"""Parsers by name: the one place readers (hunt, the file/HTTP inputs) look a parser up.

Only the Windows parsers live here for now; the other parsers (``jsonlines``, ``syslog``, ``webaccess``,
``suricata``) register themselves in this dict when they are merged: add ``"name": ParserClass`` below.
"""

from __future__ import annotations

from mamori.ingest.parsers.base import Parser
from mamori.ingest.parsers.windows import EvtxParser, WindowsJsonParser

PARSERS: dict[str, type[Parser]] = {
    EvtxParser.name: EvtxParser,
    WindowsJsonParser.name: WindowsJsonParser,
}


def get(name: str) -> Parser:
    """A new parser instance by name; KeyError names the known parsers."""
    try:
        return PARSERS[name]()
    except KeyError:
        raise KeyError(f"unknown parser {name!r}; known: {', '.join(sorted(PARSERS))}") from None
