"""Many rule regexes asked about one value at once: the prefilter for regexes that hold no usable literal.

Why: a rule like ``CommandLine|re: '\\s[a-fA-F0-9]{64}\\s[a-fA-F0-9]{16}'`` has no literal to trigger on, so it
used to be a candidate of every event of its route and ran RE2 on each. Hyperscan scans a value for all such
patterns of a field in one pass. It runs in *prefilter* mode: it may report a pattern that RE2 would not match
(the generated predicate then says no), and must never miss one RE2 matches. Where Hyperscan's regex dialect
(PCRE's) could match less than RE2, the pattern or the value is not given to it:

- values that are not ASCII (RE2 folds ``ſ``/``K`` onto s/k under ``(?i)`` and reads UTF-8 code points) or that
  hold a vertical tab (RE2's ``\\s`` lacks it, so RE2's ``\\S`` matches it and PCRE's does not): every pattern
  counts as found;
- patterns that are not ASCII, name code points (``\\x{…}``, ``\\p``), or use multi-line mode (PCRE's ``^`` does
  not match after a final newline): no regex trigger, the rule stays a candidate of every event
  (:func:`eligible`);
- a pattern Hyperscan cannot compile: counts as found in every value.

tests/detect/test_regexes.py checks "RE2 matches ⇒ found" on strings generated from every SigmaHQ pattern.
RE2's own linear-time matcher cannot serve here: its multi-pattern ``Set`` gives up silently (no match) when its
DFA runs out of memory, which a hostile value can provoke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# hyperscan: None where not installed — these rules are then candidates of every event, as before
from mamori.detect.databases import DatabaseStore, OnFirstUse, hyperscan

_NOT_FOR_HYPERSCAN = re.compile(r"\\[xpP]\{|\\[pP]|\(\?[a-zA-Z-]*m|\\C")


def available() -> bool:
    return hyperscan is not None


def eligible(pattern: str) -> bool:
    """Whether Hyperscan's answer for ``pattern`` (the final RE2 text, inline flags included) is a safe superset,
    and cheap to build: a counted repeat like ``.{1000,}`` takes Hyperscan ~0.4 s to compile (RE2 runs it fast)."""
    return pattern.isascii() and _NOT_FOR_HYPERSCAN.search(pattern) is None and _largest_count(pattern) <= _MAX_COUNT


_MAX_COUNT = 100


def _largest_count(pattern: str) -> int:
    """The largest repeat count written in ``pattern`` (``{n}``, ``{n,}``, ``{n,m}``); 0 when there is none."""
    counts = (n for match in _COUNTS.finditer(pattern) for n in match.groups() if n)
    return max(map(int, counts), default=0)


_COUNTS = re.compile(r"\\\{|\{(\d*)(?:,(\d*))?\}")  # an escaped brace, or a count


class RegexSet:
    """The regexes of one field of one route, each naming the rules it triggers."""

    def __init__(self, table: Mapping[str, Iterable[int]], store: DatabaseStore | None = None) -> None:
        self.store = store or DatabaseStore()
        self.patterns = sorted(table)  # a stable order: the kept database's key depends on it
        self.ids = [frozenset(table[p]) for p in self.patterns]
        self.every = frozenset().union(*self.ids)  # what a value Hyperscan may not judge fires
        self._compiled: OnFirstUse[tuple[Any, frozenset[int]]] = OnFirstUse(self._build)

    def fired(self, text: str) -> frozenset[int]:
        """The rules whose pattern may occur in ``text`` (runs once per distinct value: kept lean)."""
        if not text.isascii() or "\x0b" in text:  # a value Hyperscan may misjudge (see the module docstring)
            return self.every
        database, failed = self._compiled.get()
        if database is None:
            return self.every
        found: list[int] = []
        scratch = self._compiled.scratch(database)
        database.scan(text.encode("ascii"), match_event_handler=_append, context=found, scratch=scratch)
        if not found:
            return failed
        return failed.union(*(self.ids[i] for i in found))

    def _build(self) -> tuple[Any, frozenset[int]]:
        """The database of every pattern Hyperscan compiles, and the rules of those it refuses."""
        everything = list(range(len(self.patterns)))
        expressions = [p.encode("ascii") for p in self.patterns]
        database = self.store.get("prefilter", _FLAGS, expressions, lambda: _compile(self.patterns, everything))
        if database is not None:
            return database, frozenset()
        usable = [i for i in everything if _compile(self.patterns, [i]) is not None]  # find the ones refused
        failed = frozenset().union(*(self.ids[i] for i in everything if i not in usable))
        return (_compile(self.patterns, usable) if usable else None), failed


_FLAGS = (
    (
        hyperscan.HS_FLAG_PREFILTER
        | hyperscan.HS_FLAG_UTF8
        | hyperscan.HS_FLAG_ALLOWEMPTY
        | hyperscan.HS_FLAG_SINGLEMATCH
    )
    if hyperscan is not None
    else 0
)


def _compile(patterns: list[str], chosen: list[int]) -> Any:
    """A block-mode database of the chosen patterns (reported by their index), or None if one is refused."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=[patterns[i].encode("ascii") for i in chosen],
            ids=chosen,
            elements=len(chosen),
            flags=[_FLAGS] * len(chosen),
        )
    except hyperscan.error:
        return None
    return database


def _append(pattern: int, start: int, end: int, flags: int, found: list[int]) -> None:
    found.append(pattern)
