"""Many literals searched in one long text made of parts (a column's distinct values joined by NUL).

Hyperscan (Intel's multi-literal matcher, ~500 MB/s here) when its wheel is installed, pyahocorasick (~40 MB/s)
otherwise: the same answer either way (tests/detect/test_columns.py runs both). The answer is, per part, the
rule indices whose literals occur in it. A literal that spans a NUL would be attributed to one of the parts it
touches: rules never contain NUL in practice, and a prefilter may over-approximate (never under-).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from itertools import accumulate
from operator import add
from typing import Any

import ahocorasick

from mamori.detect.databases import DatabaseStore, OnFirstUse, hyperscan  # hyperscan: None where not installed

Fired = dict[int, set[int]]  # part index → rule indices


class LiteralSet:
    """Literals (lower-cased) of one field of one route, each naming the rules it triggers.

    ``automaton`` (literal → rule indices) serves one value at a time (``Bucket.candidates``) and whole columns
    when Hyperscan is missing; the Hyperscan database serves whole columns.
    """

    def __init__(
        self, table: Mapping[str, tuple[int, ...]], *, use_hyperscan: bool = True, store: DatabaseStore | None = None
    ) -> None:
        self.store = store or DatabaseStore()
        self.literals = sorted(table)  # a stable order: the kept database's key depends on it
        self.ids = [table[lit] for lit in self.literals]
        self.automaton = ahocorasick.Automaton()
        for lit, ids in zip(self.literals, self.ids, strict=True):
            self.automaton.add_word(lit, ids)
        self.automaton.make_automaton()
        self.hyperscan = use_hyperscan and hyperscan is not None and bool(self.literals)
        self._database: OnFirstUse[Any] = OnFirstUse(self._build)

    def fired(self, joined: str, parts: list[str]) -> Fired:
        """Which rules fire in which part of ``joined`` (= NUL.join(parts))."""
        return self._fired_hyperscan(joined) if self.hyperscan else self._fired_automaton(joined, parts)

    def _build(self) -> Any:
        expressions = [lit.encode("utf-8", "surrogatepass") for lit in self.literals]
        return self.store.get("literal", 0, expressions, lambda: _compile(expressions))

    def _fired_hyperscan(self, joined: str) -> Fired:
        database = self._database.get()
        data = joined.encode("utf-8", "surrogatepass")
        hits: list[tuple[int, int]] = []
        database.scan(data, match_event_handler=_collector(hits), scratch=self._database.scratch(database))
        if not hits:
            return {}
        ends = part_ends(list(map(len, data.split(b"\x00"))))
        fired: Fired = {}
        for literal, end in hits:  # `end` is exclusive: the match's last byte is end - 1
            fired.setdefault(bisect_right(ends, end - 1), set()).update(self.ids[literal])
        return fired

    def _fired_automaton(self, joined: str, parts: list[str]) -> Fired:
        ends: list[int] | None = None
        fired: Fired = {}
        for end, ids in self.automaton.iter(joined):  # `end` is inclusive
            if ends is None:
                ends = part_ends(list(map(len, parts)))
            fired.setdefault(bisect_right(ends, end), set()).update(ids)
        return fired


def _compile(expressions: list[bytes]) -> Any:
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions), literal=True
    )
    return database


def part_ends(lengths: list[int]) -> list[int]:
    """Where the NUL after each part is, given the parts' lengths."""
    return list(map(add, accumulate(lengths), range(len(lengths))))


def _collector(hits: list[tuple[int, int]]) -> Any:
    def on_match(literal: int, start: int, end: int, flags: int, context: Any) -> None:
        hits.append((literal, end))

    return on_match
