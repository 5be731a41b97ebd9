"""Which rules can possibly match an event, cheaply: the literal prefilter.

For every compiled rule we derive *triggers*: a set of (field, kind, literal) such that any event the rule
matches fires at least one of them. ``eq`` triggers are exact lower-cased values (a dict lookup), ``sub``
triggers are substrings of a lower-cased field value (one Aho-Corasick automaton per field, shared by all the
rules of a route), ``field=None`` means anywhere (keywords). A rule without triggers is always a candidate of
its route. The prefilter only narrows; the generated predicate decides, so a poor trigger costs speed, never
correctness.
"""

from __future__ import annotations

import re._constants as sre_constants  # type: ignore[import-not-found]
import re._parser as sre_parser  # type: ignore[import-not-found]
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
)

from mamori.detect import regexes
from mamori.detect.codegen import regex_spec, shape, string_parts
from mamori.detect.databases import DatabaseStore
from mamori.detect.errors import RuleCompileError
from mamori.detect.literals import LiteralSet
from mamori.detect.matchers import KEYWORDS, compile_untrusted_regex, original_value
from mamori.detect.negations import Negations, negated_trigger
from mamori.detect.regexes import RegexSet
from mamori.detect.routing import ROUTE_FIELDS

Trigger = tuple[str | None, str, str]  # (field or None = any field, "eq" | "sub", lower-cased literal)
Triggers = frozenset[Trigger] | None


def triggers(node: Any) -> Triggers:
    if isinstance(node, ConditionAND):
        return _best(t for t in (triggers(a) for a in node.args) if t is not None)
    if isinstance(node, ConditionOR):
        parts = [triggers(a) for a in node.args]
        if not parts or any(p is None for p in parts):
            return None
        return frozenset().union(*(p for p in parts if p is not None))
    if isinstance(node, ConditionNOT):
        return negated_trigger(node.args[0])
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return None if node.field in ROUTE_FIELDS else _value_triggers(node.field, node.value)
    if isinstance(node, ConditionValueExpression):
        found = _value_triggers(None, node.value)
        # a keyword is a substring search anywhere: an exact trigger would be wrong
        return None if found is None else frozenset((None, "sub", lit) for _, _, lit in found)
    return None


def _value_triggers(name: str | None, value: Any) -> Triggers:
    if isinstance(value, SigmaExpansion):
        parts = [_value_triggers(name, v) for v in value.values]
        if not parts or any(p is None for p in parts):
            return None
        return frozenset().union(*(p for p in parts if p is not None))
    if isinstance(value, SigmaFieldReference) and name is not None and not (value.starts_with or value.ends_with):
        return frozenset({(name, "ref", value.field)})  # the two fields' values are equal
    if isinstance(value, SigmaNumber):
        return frozenset({(name, "eq", str(value.number))})
    if isinstance(value, SigmaBool):
        return frozenset({(name, "eq", "true" if value.boolean else "false")})
    if isinstance(value, SigmaRegularExpression):
        lit = regex_literal(str(value.regexp), ignorecase=SigmaRegularExpressionFlag.IGNORECASE in value.flags)
        if lit:
            return frozenset({(name, "sub", lit)})
        return _regex_trigger(name, value)
    if not isinstance(value, SigmaString):
        return None
    try:
        pieces = string_parts(value)
    except RuleCompileError:
        return None
    kind = shape(pieces)
    if kind is not None and kind[0] == "eq" and not isinstance(value, SigmaCasedString):
        return frozenset({(name, "eq", kind[1].lower())})
    texts = [p for p in pieces if isinstance(p, str)]
    if not texts:
        return None
    return frozenset({(name, "sub", max(texts, key=len).lower())})


def _regex_trigger(name: str | None, value: SigmaRegularExpression) -> Triggers:
    """A regex without a literal: the regex itself, searched by Hyperscan with the field's others (``re``)."""
    if name is None:
        return None
    try:
        pattern: str = compile_untrusted_regex(*regex_spec(value)).pattern  # the text RE2 runs, flags included
    except RuleCompileError:
        return None
    return frozenset({(name, "re", pattern)}) if regexes.eligible(pattern) else None


def regex_literal(pattern: str, *, ignorecase: bool = False) -> str | None:
    """The longest literal run every match of ``pattern`` must contain (lower-cased), or None.

    Only top-level literals, groups that are neither optional nor alternatives, and the first pass of a
    repetition that must happen at least once count; anything else ends a run. A pattern Python cannot parse
    simply gets no trigger. Case-insensitive patterns keep only ASCII letters other than s and k in a run: RE2
    folds ``ſ``/``K`` (and non-ASCII letters) onto them, which lower-casing the text does not.
    """
    try:
        parsed = sre_parser.parse(pattern)
    except (sre_constants.error, RecursionError, OverflowError, ValueError):
        return None
    folds = ignorecase or bool(parsed.state.flags & sre_constants.SRE_FLAG_IGNORECASE)
    runs: list[str] = []
    _literal_runs(list(parsed), runs, [], folds)
    best = max(runs, key=len, default="")
    if len(best) >= 3 or (best and set(best) <= _RARE_CHARS):
        return best.lower()
    return None  # a short run (``\``, ``-``, ``32``) occurs in most values: no trigger costs less


# Characters rare enough in log values that even one of them makes a useful trigger (PowerShell's backtick …).
_RARE_CHARS = frozenset("`^{}$|~<>")


_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None))


def _literal_runs(items: list[Any], runs: list[str], current: list[str], folds: bool) -> None:
    for op, arg in items:
        if op is sre_constants.LITERAL and not (folds and _folds_beyond_lower(chr(arg))):
            current.append(chr(arg))
            continue
        if current:
            runs.append("".join(current))
            current.clear()
        if op is sre_constants.SUBPATTERN and not arg[1] and not arg[2]:
            _literal_runs(list(arg[3]), runs, [], folds)
        elif op in _REPEATS and arg[0] >= 1:
            _literal_runs(list(arg[2]), runs, [], folds)
    if current:
        runs.append("".join(current))
        current.clear()


def _folds_beyond_lower(char: str) -> bool:
    return not char.isascii() or char.lower() in "sk"


# Fields whose values repeat across most events (a trigger on them selects almost everything), and substrings
# found in most Windows paths. Only a speed heuristic: the choice never changes a verdict.
_COMMON_FIELDS = frozenset(
    {
        "IntegrityLevel",
        "Company",
        "Product",
        "Description",
        "FileVersion",
        "SignatureStatus",
        "Signed",
        "Signature",
        "ObjectType",
        "LogonType",
        "Provider_Name",
        "EventType",
        "Level",
        "Task",
        "Opcode",
        "Keywords",
        "Protocol",
        "Initiated",
        "AccessMask",
        "Status",
        "AuthenticationPackageName",
        "LogonProcessName",
        "sc-status",
        "cs-method",
    }
)
_COMMON_TEXT = frozenset(
    {
        "\\windows\\",
        "c:\\windows\\",
        "\\system32\\",
        "c:\\windows\\system32\\",
        "\\syswow64\\",
        ".exe",
        ".dll",
        "microsoft",
        "\\program files",
        "c:\\program files",
        "c:\\users\\",
        "\\users\\",
        "\\appdata\\",
        "\\temp\\",
        "system",
        "high",
        "true",
        "false",
        "microsoft corporation",
        "microsoft® windows® operating system",
        "nt authority\\system",
    }
)


# Programs that start in most process-creation events of any Windows estate: as a trigger they select little.
_COMMON_PROGRAMS = frozenset(
    {
        "cmd.exe",
        "powershell.exe",
        "pwsh.exe",
        "conhost.exe",
        "rundll32.exe",
        "svchost.exe",
        "services.exe",
        "explorer.exe",
        "wmiprvse.exe",
        "reg.exe",
        "net.exe",
        "net1.exe",
        "sc.exe",
        "msiexec.exe",
        "taskhostw.exe",
        "wscript.exe",
        "cscript.exe",
    }
)


def _trigger_score(trigger: Trigger) -> int:
    name, kind, lit = trigger
    if kind == "re":
        return 2  # selective, yet a regex per value costs more than a literal: any good literal is preferred
    if kind == "ref":
        return 3  # two fields of an event seldom hold the same value
    if kind == "not":
        return -100  # what a rule excludes holds for most values: chosen only where nothing else is, over none
    score = min(len(lit), 16) + (8 if kind == "eq" else 0)
    if name in _COMMON_FIELDS:
        score -= 12
    if _is_common(lit):
        score -= 12
    return score


def _is_common(lit: str) -> bool:
    """A literal found in most values: a piece of a common path or text, or a common program's name."""
    return lit.rpartition("\\")[2] in _COMMON_PROGRAMS or any(lit in text for text in _COMMON_TEXT)


def _score(found: frozenset[Trigger]) -> tuple[int, int]:
    """Higher is more selective: the weakest trigger decides; fewer triggers is better."""
    weakest = min(_trigger_score(t) for t in found) if found else 0
    return (weakest, -len(found))


def _best(options: Iterable[frozenset[Trigger]]) -> Triggers:
    best: frozenset[Trigger] | None = None
    for option in options:
        if option and (best is None or _score(option) > _score(best)):
            best = option
    return best


_FEW = 4  # up to this many keyword literals, ``in`` tests beat an automaton walk over the whole text


@dataclass
class Bucket:
    """The rules of one route with their shared prefilter structures."""

    always: list[int] = field(default_factory=list)
    sub: dict[str, Any] = field(default_factory=dict)  # field → its literal set's automaton (literal → rule indices)
    eq: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    anywhere: Any = None  # automaton for keyword triggers, searched in the joined keyword text
    few_anywhere: tuple[tuple[str, tuple[int, ...]], ...] = ()  # the same when there are few: plain ``in`` tests
    reads: frozenset[str] | None = frozenset()  # fields any rule of the bucket reads; None = all
    by_field: dict[str, tuple[Any, dict[str, tuple[int, ...]] | None]] = field(default_factory=dict)
    members: tuple[int, ...] = ()  # every rule of the route, whatever its triggers
    literal_sets: dict[str, LiteralSet] = field(default_factory=dict)  # ``sub`` for whole columns ("" = keywords)
    regex_sets: dict[str, RegexSet] = field(default_factory=dict)  # ``re`` triggers, asked with original values
    negations: dict[str, Negations] = field(default_factory=dict)  # ``not`` triggers (see detect.negations)
    references: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)  # ``ref``: equal fields

    @property
    def empty(self) -> bool:
        return not self.members

    def add_reads(self, reads: frozenset[str] | None) -> None:
        self.reads = None if reads is None or self.reads is None else self.reads | reads

    @classmethod
    def build(
        cls, rules: Iterable[tuple[int, Triggers, frozenset[str] | None]], store: DatabaseStore | None = None
    ) -> Bucket:
        """``store``: where compiled Hyperscan databases are kept between processes (None: nowhere)."""
        bucket = cls()
        tables: dict[str, dict[str, dict[str, list[int]]]] = {"eq": {}, "sub": {}, "re": {}, "not": {}, "ref": {}}
        members: list[int] = []
        for index, found, reads in rules:
            members.append(index)
            bucket.add_reads(reads)
            if found is None:
                bucket.always.append(index)
                continue
            for name, kind, lit in found:
                tables[kind].setdefault(name or "", {}).setdefault(lit, []).append(index)
        eq, sub = tables["eq"], tables["sub"]
        bucket.regex_sets = {f: RegexSet(t, store) for f, t in tables["re"].items()}
        bucket.negations = {f: Negations(t) for f, t in tables["not"].items()}
        bucket.references = {(f, other): tuple(ix) for f, t in tables["ref"].items() for other, ix in t.items()}
        bucket.members = tuple(members)
        bucket.eq = {f: {lit: tuple(ix) for lit, ix in t.items()} for f, t in eq.items() if f}
        bucket.literal_sets = {
            f: LiteralSet({lit: tuple(ix) for lit, ix in t.items()}, store=store) for f, t in sub.items()
        }
        bucket.sub = {f: literals.automaton for f, literals in bucket.literal_sets.items() if f}
        names = bucket.sub.keys() | bucket.eq.keys()
        bucket.by_field = {f: (bucket.sub.get(f), bucket.eq.get(f)) for f in names}
        if "" in sub:
            bucket.anywhere = bucket.literal_sets[""].automaton
            if len(sub[""]) <= _FEW:
                bucket.few_anywhere = tuple((lit, tuple(ix)) for lit, ix in sub[""].items())
        return bucket

    def candidates(self, low: dict[str, Any], event: dict[str, Any]) -> set[int]:
        """Rules that may match: the always-candidates plus every rule a trigger fired for (hot path).

        ``low``: the lower-cased view; ``event``: the flat original, which regexes are asked about."""
        found = set(self.always)
        by_field = self.by_field
        for name, value in low.items():
            entry = by_field.get(name)
            if entry is not None:
                value_candidates(entry, value, found)
        if self.anywhere is not None:
            self.keyword_candidates(low[KEYWORDS], found)  # the views add the text for such buckets
        for name, regex_set in self.regex_sets.items():
            regex_candidates(regex_set, event.get(name), found)
        for name, negations in self.negations.items():
            found.update(negations.fired(low.get(name)))
        for (name, other), ids in self.references.items():
            value = low.get(name)
            if value.__class__ is str and value == low.get(other):
                found.update(ids)
        return found

    def keyword_candidates(self, text: str, found: set[int]) -> None:
        if self.few_anywhere:
            for lit, ids in self.few_anywhere:
                if lit in text:
                    found.update(ids)
            return
        for _, ids in self.anywhere.iter(text):
            found.update(ids)


def value_candidates(entry: tuple[Any, dict[str, tuple[int, ...]] | None], value: Any, found: set[int]) -> None:
    """The rules one field's lower-cased value (a text, a tuple of texts, or None) triggers, added to ``found``."""
    automaton, table = entry
    for text in (value,) if value.__class__ is str else (value or ()):
        if table is not None:
            ids = table.get(text)
            if ids:
                found.update(ids)
        if automaton is not None:
            for _, ids in automaton.iter(text):
                found.update(ids)


def regex_candidates(regex_set: RegexSet, value: Any, found: set[int]) -> None:
    """The rules one field's original value (any type) may match by their regex trigger, added to ``found``."""
    text = value if value.__class__ is str else original_value(value)
    for one in (text,) if text.__class__ is str else (text or ()):
        found.update(regex_set.fired(one))
