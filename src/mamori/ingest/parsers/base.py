"""The contract every input parser follows.

A parser turns untrusted bytes into normalised events (plain dicts with Sigma-taxonomy field names plus the
envelope fields of :mod:`mamori.core.messages`) and never raises on bad input: each record it cannot read
comes back as a :class:`ParseFailure` carrying the reason and the offending bytes, so the caller can
dead-letter it and go on with the batch.

Conventions shared by all parsers:
- ``@timestamp``: ISO 8601 in UTC with a ``Z`` suffix (``2026-11-23T08:15:02.123000Z``); when the record has
  no usable time the caller's receive time is used.
- ``source``: the log source kind, one of ``windows``, ``webserver``, ``suricata``, ``syslog``, ``json``.
- ``host``: the machine the record is about, when known. ``org`` and ``sensor`` are set by the caller.
- ``raw``: the original record text (truncated to :data:`MAX_RAW`), kept for evidence and re-parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

from mamori.core.messages import Event

MAX_RAW = 16_384  # bytes of an original record kept with the event / failure


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A record that could not be read: why, where, and the bytes themselves (truncated)."""

    reason: str
    where: str
    raw: bytes

    @classmethod
    def of(cls, reason: str, where: str, raw: bytes) -> ParseFailure:
        return cls(reason=reason[:500], where=where[:200], raw=raw[:MAX_RAW])


class Parser(Protocol):
    """Reads one input format."""

    name: ClassVar[str]

    def parse(self, data: bytes, *, origin: str) -> Iterator[Event | ParseFailure]:
        """Yield one event or one failure per record of ``data``; ``origin`` names where it came from."""
        ...
