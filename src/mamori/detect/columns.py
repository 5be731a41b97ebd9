"""Views and prefilter candidates for many events of one route at once, a field (column) at a time.

Why: per event and per field, lower-casing a value and asking the field's automaton about it costs a few Python
operations each — most of the engine's time on a Sysmon log. A column instead is reduced to its *distinct*
values (logs repeat images, users, companies, integrity levels …), those are joined with NUL, lower-cased, split
and searched by each automaton in one C-level call each, and a match is attributed to its value by bisecting the
part boundaries. The results are exactly those of :func:`mamori.detect.views.views` and ``Bucket.candidates``
(tests/detect/test_columns.py compares them on real logs and on arbitrary values), with two differences the
engine allows for: a field the event lacks is present in the view as None (the generated code treats None as
absent), and the joined keyword text (``KEYWORDS``) is left for the engine to add when a keyword rule needs it.

No library does this (pyahocorasick and Hyperscan search one buffer; attributing matches to values is ours).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable
from itertools import compress, repeat
from typing import Any

from mamori.detect.literals import Fired, part_ends
from mamori.detect.matchers import KEYWORD_SKIP, KEYWORDS
from mamori.detect.negations import Negations
from mamori.detect.prefilter import Bucket, regex_candidates, value_candidates
from mamori.detect.regexes import RegexSet
from mamori.detect.views import RAW_FIELDS, low_value

_SEP = "\x00"
_NONE = type(None)
_TEXTS = (frozenset({str, _NONE}), frozenset({int, _NONE}))

Column = list[Any]  # per event: lower-cased text, a tuple of texts (a list value), or None (absent)


class _Distinct:
    """One column's distinct values lower-cased: the parts of a NUL-joined text (absent values are empty)."""

    __slots__ = ("_ends", "_parts", "joined", "values")

    def __init__(self, values: list[Hashable], joined: str, parts: list[str] | None = None) -> None:
        self.values, self.joined, self._parts = values, joined, parts
        self._ends: list[int] | None = None

    @property
    def parts(self) -> list[str]:
        if self._parts is None:  # a keyword-only column is split only when a keyword occurs in it
            self._parts = self.joined.split(_SEP)
        return self._parts

    def owner(self, end: int) -> int:
        """The distinct value a match ending at ``end`` (an index into ``joined``) lies in."""
        if self._ends is None:
            self._ends = part_ends(list(map(len, self.parts)))
        return bisect_right(self._ends, end)


def scan(bucket: Bucket, events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[set[int]]]:
    """(lower-cased view, candidate rule indices) of each event, all routed to ``bucket``."""
    found = [set(bucket.always) for _ in events]
    reads = bucket.reads
    present: set[str] = set()
    by_reads = reads is not None and bucket.anywhere is None
    if by_reads:  # the few fields rules read: cheaper than collecting every event's names (absent ones dropped)
        wanted = sorted(reads - RAW_FIELDS)  # type: ignore[operator]
    else:  # every field an event holds may matter
        present = set().union(*events)
        wanted = sorted((present if reads is None else present & reads) - RAW_FIELDS)
    names: list[str] = []
    columns: list[Column] = []
    distinct: dict[str, tuple[list[Any], _Distinct | None]] = {}
    for name in wanted:
        raw = list(map(dict.get, events, repeat(name)))  # C-level: no bytecode per event
        if by_reads and raw.count(None) == len(raw):
            continue  # no event holds it
        names.append(name)
        column, unique = _lower_column(raw)
        distinct[name] = (raw, unique)
        columns.append(column)
        if name in bucket.by_field:
            _field_candidates(bucket, name, raw, column, unique, found)
    if bucket.anywhere is not None:
        _keywords(bucket, events, sorted(present - KEYWORD_SKIP), distinct, found)
    _other_triggers(bucket, dict(zip(names, columns, strict=True)), distinct, found)
    if not names:
        return [{} for _ in events], found
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)], found


def _lower_column(values: list[Any]) -> tuple[Column, _Distinct | None]:
    """The column's lower-cased values, and its distinct values when all are text or numbers (or absent)."""
    distinct = _distinct(values)
    if distinct is None:
        return [low_value(v) for v in values], None
    lowered = dict(zip(distinct.values, distinct.parts, strict=True))
    if None in lowered:
        lowered[None] = None  # type: ignore[assignment]
    return list(map(lowered.__getitem__, values)), distinct


def _distinct(values: list[Any]) -> _Distinct | None:
    """The distinct values lower-cased and NUL-joined, when all are text or numbers (or absent); else None."""
    kinds = set(map(type, values))  # of every value: True == 1 and 1.0 == 1 would hide among distinct ones
    if not (kinds <= _TEXTS[0] or kinds <= _TEXTS[1]):
        return None
    unique = list(dict.fromkeys(values))
    texts: Iterable[str] = ("" if v is None else v for v in unique) if _NONE in kinds else unique
    joined = _SEP.join(map(str, texts) if int in kinds else texts).lower()
    if joined.count(_SEP) != len(unique) - 1:  # a value holds a NUL of its own
        return None
    return _Distinct(unique, joined)


def _keywords(
    bucket: Bucket,
    events: list[dict[str, Any]],
    names: list[str],
    columns: dict[str, tuple[list[Any], _Distinct | None]],
    found: list[set[int]],
) -> None:
    """Keyword triggers: searched in every column (a keyword may occur in any field)."""
    for name in names:
        if name not in columns:
            raw = list(map(dict.get, events, repeat(name)))
            columns[name] = (raw, _distinct(raw))
    if bucket.few_anywhere:  # the usual case: no keyword occurs anywhere, which one search over all shows
        haystack = _SEP.join(d.joined for _, d in (columns[n] for n in names) if d is not None)
        if not any(lit in haystack for lit, _ in bucket.few_anywhere) and all(columns[n][1] for n in names):
            return
    for name in names:
        _keyword_candidates(bucket, *columns[name], found)


def _field_candidates(
    bucket: Bucket, name: str, raw: list[Any], column: Column, distinct: _Distinct | None, found: list[set[int]]
) -> None:
    entry = bucket.by_field[name]
    if distinct is None:  # lists, NULs or mixed types: event by event, as Bucket.candidates
        for value, candidates in zip(column, found, strict=True):
            value_candidates(entry, value, candidates)
        return
    automaton, table = entry
    if table is not None and not table.keys().isdisjoint(distinct.parts):
        for index, ids in enumerate(map(table.get, column)):
            if ids:
                found[index].update(ids)
    if automaton is not None:
        _spread(_by_value(bucket.literal_sets[name].fired(distinct.joined, distinct.parts), distinct), raw, found)


def _by_value(fired: Fired, distinct: _Distinct) -> dict[Hashable, set[int]]:
    """Rules fired per part → per distinct value; an absent value fires nothing (a match "there" spans parts)."""
    out = {distinct.values[part]: ids for part, ids in fired.items()}
    out.pop(None, None)
    return out


def _keyword_candidates(bucket: Bucket, raw: list[Any], distinct: _Distinct | None, found: list[set[int]]) -> None:
    """Keyword triggers searched in one column (a keyword may occur in any field)."""
    if distinct is None:
        for value, candidates in zip(raw, found, strict=True):
            text = low_value(value)
            for one in (text,) if text.__class__ is str else (text or ()):
                bucket.keyword_candidates(one, candidates)
        return
    if not bucket.few_anywhere:
        _spread(_by_value(bucket.literal_sets[""].fired(distinct.joined, distinct.parts), distinct), raw, found)
        return
    fired: Fired = {}
    for lit, ids in bucket.few_anywhere:  # a few keywords: str.find beats any automaton
        start = distinct.joined.find(lit)
        while start >= 0:
            fired.setdefault(distinct.owner(start + len(lit) - 1), set()).update(ids)
            start = distinct.joined.find(lit, start + 1)
    _spread(_by_value(fired, distinct), raw, found)


def _regex_candidates(regex_set: RegexSet, raw: list[Any], distinct: _Distinct | None, found: list[set[int]]) -> None:
    """Regex triggers, asked once per distinct original value (Hyperscan: see :mod:`mamori.detect.regexes`)."""
    if distinct is None:  # lists, NULs or mixed types: event by event, as Bucket.candidates
        for value, candidates in zip(raw, found, strict=True):
            regex_candidates(regex_set, value, candidates)
        return
    _spread_judged(distinct, raw, found, lambda value, _: _NOTHING if value is None else regex_set.fired(str(value)))


def _other_triggers(
    bucket: Bucket,
    lowered: dict[str, Column],
    distinct: dict[str, tuple[list[Any], _Distinct | None]],
    found: list[set[int]],
) -> None:
    """Regex, negation and field-reference triggers (rarer than literals: most routes have none)."""
    for name, regex_set in bucket.regex_sets.items():
        if name in distinct:  # a field no event holds fires no regex
            _regex_candidates(regex_set, *distinct[name], found)
    for name, negations in bucket.negations.items():
        _negation_candidates(negations, distinct.get(name), found)
    for (name, other), ids in bucket.references.items():
        if name in lowered and other in lowered:  # else one is absent from every event: never equal
            for index in compress(range(len(found)), map(_same_text, lowered[name], lowered[other])):
                found[index].update(ids)


def _negation_candidates(
    negations: Negations, column: tuple[list[Any], _Distinct | None] | None, found: list[set[int]]
) -> None:
    """Negation triggers, judged once per distinct lower-cased value; a field no event holds passes them all."""
    if column is None:
        for candidates in found:
            candidates.update(negations.every)
        return
    raw, distinct = column
    if distinct is None:  # lists, NULs or mixed types: event by event
        for value, candidates in zip(raw, found, strict=True):
            candidates.update(negations.fired(low_value(value)))
        return
    _spread_judged(distinct, raw, found, lambda value, text: negations.fired(None if value is None else text))


_NOTHING: frozenset[int] = frozenset()


def _spread_judged(
    distinct: _Distinct,
    raw: list[Any],
    found: list[set[int]],
    judge: Callable[[Hashable, str], frozenset[int]],
) -> None:
    """Give each event the rules ``judge`` names for its value, asked once per distinct (original, lowered)."""
    fired: dict[Hashable, set[int]] = {}
    for value, text in zip(distinct.values, distinct.parts, strict=True):
        ids = judge(value, text)
        if ids:
            fired[value] = ids  # type: ignore[assignment]
    _spread(fired, raw, found)


def _same_text(value: Any, other: Any) -> bool:
    return value.__class__ is str and value == other


def _spread(fired: dict[Hashable, set[int]], raw: list[Any], found: list[set[int]]) -> None:
    """Give each event the rules its value fired."""
    if not fired:
        return
    for index, ids in enumerate(map(fired.get, raw)):
        if ids:
            found[index].update(ids)


__all__ = ["KEYWORDS", "scan"]
