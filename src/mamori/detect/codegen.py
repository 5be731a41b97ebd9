"""Compile a pySigma condition tree into the source of one Python predicate ``rule(L, E) -> bool``.

Why generated source rather than a tree of closures: one expression per rule costs a single call per
evaluation, and the source (plus picklable constant specs) is what the on-disk cache stores.

Safety: rule content is untrusted. Strings enter the source only through ``repr()`` of a ``str`` (always a
valid, inert literal); field names likewise; everything else (sets, regexes, networks) is a constant ``kN``
bound by the factory, never spliced into the code.
"""

from __future__ import annotations

import re
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from mamori.detect.errors import RuleCompileError
from mamori.detect.matchers import KEYWORDS, Spec, compile_untrusted_regex

STAR = SpecialChars.WILDCARD_MULTI
QMARK = SpecialChars.WILDCARD_SINGLE
Part = str | SpecialChars

_OPS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
    CompareOperators.NEQ: "neq",
}
_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}
_GROUP_MIN = 3  # from this many alternatives on one field, one set/tuple/automaton beats chained tests


def regex_spec(value: SigmaRegularExpression) -> tuple[str, str]:
    """(pattern, flag letters) of a ``|re`` value, as :func:`mamori.detect.matchers.compile_untrusted_regex` takes."""
    return str(value.regexp), "".join(sorted(_RE_FLAGS[f] for f in value.flags))


def alternation(specs: list[tuple[str, str]]) -> str | None:
    """One RE2 pattern that occurs in a text exactly when one of (pattern, flags) does, or None if RE2 refuses one
    of them or the whole. Each keeps its flags in its own group: ``(?i:…)|(?:…)``."""
    merged = "|".join(f"(?{flags}:{pattern})" if flags else f"(?:{pattern})" for pattern, flags in specs)
    try:
        for pattern, flags in specs:  # each alone too: "a)|(?:b" is refused alone, yet merges into a valid one
            compile_untrusted_regex(pattern, flags)
        compile_untrusted_regex(merged, "")
    except RuleCompileError:
        return None
    return merged


def string_parts(value: SigmaString) -> list[Part]:
    """The parts of a Sigma string with adjacent text merged; placeholders left unresolved are refused."""
    parts: list[Part] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            raise RuleCompileError(f"placeholder %{part.name}% has no value (define it in a pipeline)")
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        elif part != "":
            parts.append(part)
    return parts


def shape(parts: list[Part]) -> tuple[str, str] | None:
    """Classify a pattern as eq/starts/ends/in/any with its literal; None when it needs a regex."""
    texts = [p for p in parts if isinstance(p, str)]
    specials = [p for p in parts if not isinstance(p, str)]
    if QMARK in specials or len(texts) > 1:
        return None
    text = texts[0] if texts else ""
    if not specials:
        return ("eq", text)
    if not texts:
        return ("any", "") if all(p is STAR for p in parts) else None
    starts, ends = parts[0] is STAR, parts[-1] is STAR
    if len(specials) == 2 and starts and ends:
        return ("in", text)
    if len(specials) == 1:
        return ("starts", text) if ends else ("ends", text)
    return None


def wildcard_regex(parts: list[Part], lower: bool) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(re.escape(part.lower() if lower else part))
        else:
            out.append(".*" if part is STAR else ".")
    return "".join(out)


class CodeGen:
    """Turns one rule's postprocessed condition tree into an expression; collects its constants."""

    def __init__(self) -> None:
        self.consts: list[Spec] = []
        self.fields: set[str] = set()  # fields the predicate reads (the engine lower-cases only those)
        self.anywhere = False  # keyword items read every field

    def const(self, spec: Spec) -> str:
        self.consts.append(spec)
        return f"k{len(self.consts) - 1}"

    def node(self, node: Any) -> str:
        if isinstance(node, ConditionAND):
            return "(" + " and ".join(self.node(a) for a in node.args) + ")"
        if isinstance(node, ConditionOR):
            return self.disjunction(node.args)
        if isinstance(node, ConditionNOT):
            return f"(not {self.node(node.args[0])})"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.field_leaf(node.field, [node.value])
        if isinstance(node, ConditionValueExpression):
            return self.keyword_leaf(node.value)
        raise RuleCompileError(f"unsupported condition node {type(node).__name__}")

    def disjunction(self, args: list[Any]) -> str:
        """OR; plain string leaves on the same field are merged into one field access and grouped tests, and
        regexes on the same field into one RE2 alternation (one search instead of one per regex)."""
        by_field: dict[str, list[Any]] = {}
        regexes: dict[str, list[SigmaRegularExpression]] = {}
        others: list[str] = []
        for arg in args:
            if isinstance(arg, ConditionFieldEqualsValueExpression) and _plain(arg.value):
                by_field.setdefault(arg.field, []).append(arg.value)
            elif isinstance(arg, ConditionFieldEqualsValueExpression) and isinstance(arg.value, SigmaRegularExpression):
                regexes.setdefault(arg.field, []).append(arg.value)
            else:
                others.append(self.node(arg))
        leaves = [self.field_leaf(f, values) for f, values in by_field.items()]
        leaves += [self.regex_leaf(f, values) for f, values in regexes.items()]
        return "(" + " or ".join(leaves + others) + ")"

    def regex_leaf(self, field: str, values: list[SigmaRegularExpression]) -> str:
        """Any of several regexes on one field: one alternation when RE2 takes it, else one test each."""
        if len(values) > 1:
            merged = alternation([regex_spec(v) for v in values])
            if merged is not None:
                self.fields.add(field)
                return _original_leaf(repr(field), f"{self.const(('re2', merged, ''))}.search(o)")
        return "(" + " or ".join(self.field_leaf(field, [v]) for v in values) + ")"

    # ---- field leaves -------------------------------------------------------------------------------------
    def field_leaf(self, field: str, values: list[Any]) -> str:
        """One field compared with one value or (OR) several values."""
        self.fields.add(field)
        special = self.special_leaf(field, values[0]) if len(values) == 1 else None
        if special is not None:
            return special
        pred = self.value_tests(values, "v")
        return (
            f"((v := L.get({field!r})) is not None and "
            f"({pred} if v.__class__ is str else _any_of(lambda v: {pred}, v)))"
        )

    def special_leaf(self, field: str, value: Any) -> str | None:
        """Values that are not a test of the lower-cased text of one field."""
        f = repr(field)
        if isinstance(value, SigmaNull):
            return f"(L.get({f}) is None)"
        if isinstance(value, SigmaExists):
            # not `in L`: the view may hold a field the event lacks as None (see detect.columns)
            return f"(L.get({f}) is not None)" if value.exists else f"(L.get({f}) is None)"
        if isinstance(value, SigmaFieldReference):
            return self.fieldref(f, value)
        if isinstance(value, SigmaRegularExpression | SigmaCasedString):
            return _original_leaf(f, self.original_test(value, "o"))
        if isinstance(value, SigmaCompareExpression):
            op = _OPS[value.op]
            return f"((v := L.get({f})) is not None and _cmp(v, {op!r}, {float(value.number.number)!r}))"
        return None

    def fieldref(self, f: str, value: SigmaFieldReference) -> str:
        self.fields.add(value.field)
        other = repr(value.field)
        if value.starts_with and value.ends_with:
            test = "w in v"
        elif value.starts_with:  # |fieldref|startswith: the field starts with the other field's value
            test = "v.startswith(w)"
        elif value.ends_with:
            test = "v.endswith(w)"
        else:
            test = "v == w"
        return (
            f"((v := L.get({f})) is not None and (w := L.get({other})) is not None and "
            f"v.__class__ is str and w.__class__ is str and {test})"
        )

    def original_test(self, value: Any, var: str) -> str:
        """Case-sensitive tests on the original text: ``|re`` and ``|cased``."""
        if isinstance(value, SigmaRegularExpression):
            k = self.const(("re2", *regex_spec(value)))
            return f"{k}.search({var})"
        parts = string_parts(value)
        return self.string_test(parts, var, lower=False)

    def value_tests(self, values: list[Any], var: str) -> str:
        """OR of tests on the lower-cased text ``var``; same-shape string tests are grouped."""
        groups: dict[str, list[str]] = {"eq": [], "starts": [], "ends": [], "in": []}
        tests: list[str] = []
        for value in _flatten_expansions(values):
            if isinstance(value, SigmaString) and not isinstance(value, SigmaCasedString):
                parts = string_parts(value)
                kind = shape(parts)
                if kind is not None and kind[0] in groups:
                    groups[kind[0]].append(kind[1].lower())
                    continue
                tests.append(self.string_test(parts, var, lower=True))
            else:
                tests.append(self.scalar_test(value, var))
        tests[:0] = self.grouped(groups, var)
        return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"

    def grouped(self, groups: dict[str, list[str]], var: str) -> list[str]:
        out: list[str] = []
        eq, starts, ends, inside = (sorted(set(groups[k])) for k in ("eq", "starts", "ends", "in"))
        if len(eq) >= _GROUP_MIN:
            out.append(f"{var} in {self.const(('set', eq))}")
        else:
            out.extend(f"{var} == {t!r}" for t in eq)
        if starts:
            out.append(
                f"{var}.startswith({self.const(('tuple', starts))})"
                if len(starts) > 1
                else f"{var}.startswith({starts[0]!r})"
            )
        if ends:
            out.append(
                f"{var}.endswith({self.const(('tuple', ends))})" if len(ends) > 1 else f"{var}.endswith({ends[0]!r})"
            )
        if len(inside) >= _GROUP_MIN:
            out.append(f"_ac_any({self.const(('ac', inside))}, {var})")
        else:
            out.extend(f"{t!r} in {var}" for t in inside)
        return out

    def string_test(self, parts: list[Part], var: str, *, lower: bool) -> str:
        kind = shape(parts)
        if kind is None and QMARK not in parts:  # text and `*` only: a linear search, no regex
            pieces = [(p.lower() if lower else p) if isinstance(p, str) else p for p in parts]
            prefix = pieces.pop(0) if isinstance(pieces[0], str) else ""
            suffix = pieces.pop() if pieces and isinstance(pieces[-1], str) else ""
            middle = tuple(p for p in pieces if isinstance(p, str))
            return f"_glob({var}, {prefix!r}, {middle!r}, {suffix!r})"
        if kind is None:
            return f"{self.const(('re', wildcard_regex(parts, lower)))}.fullmatch({var}) is not None"
        op, text = kind
        text = text.lower() if lower else text
        return {
            "eq": f"{var} == {text!r}",
            "starts": f"{var}.startswith({text!r})",
            "ends": f"{var}.endswith({text!r})",
            "in": f"{text!r} in {var}",
            "any": "True",
        }[op]

    def scalar_test(self, value: Any, var: str) -> str:
        if isinstance(value, SigmaTimestampPart):
            raise RuleCompileError("timestamp-part modifiers (minute, hour, day …) are not supported")
        if isinstance(value, SigmaNumber):
            return f"{var} == {str(value.number)!r}"
        if isinstance(value, SigmaBool):
            return f"{var} == {('true' if value.boolean else 'false')!r}"
        if isinstance(value, SigmaCIDRExpression):
            return f"_cidr({self.const(('net', [str(value.network)]))}, {var})"
        if isinstance(value, SigmaNull):
            return "False"  # null inside a list with other values: the field exists here, so not null
        raise RuleCompileError(f"value type {type(value).__name__} is not supported")

    # ---- keywords -----------------------------------------------------------------------------------------
    def keyword_leaf(self, value: Any) -> str:
        """Field-less search: the value anywhere in any field (a plain keyword is a substring search)."""
        values = _flatten_expansions([value])
        wrapped = [
            _as_contains(v) if isinstance(v, SigmaString) and not isinstance(v, SigmaCasedString) else v for v in values
        ]
        needles = [_needle(v) for v in wrapped]
        if all(needles):
            return self.keyword_substrings([n for n in needles if n])
        self.anywhere = True  # the general path tests every field's value one by one
        if any(isinstance(v, SigmaRegularExpression | SigmaCasedString) for v in wrapped):
            pred = " or ".join(self.original_test(v, "o") for v in wrapped)
            return f"_any_of(lambda o: {pred}, _kw({{k: _orig(E, k) for k in L}}))"
        pred = self.value_tests(wrapped, "v")
        return f"_any_of(lambda v: {pred}, _kw(L))"

    def keyword_substrings(self, needles: list[str]) -> str:
        """Plain keywords: substrings of the joined keyword text (one ``in`` per needle, or one automaton)."""
        self.fields.add(KEYWORDS)
        text = f"L[{KEYWORDS!r}]"
        unique = sorted(set(needles))
        if len(unique) >= _GROUP_MIN:
            return f"_ac_any({self.const(('ac', unique))}, {text})"
        return "(" + " or ".join(f"{n!r} in {text}" for n in unique) + ")"


def _needle(value: Any) -> str | None:
    """The lower-cased substring a keyword value searches for, when it is a plain one (no NUL, no inner wildcard)."""
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    kind = shape(string_parts(value))
    if kind is None or kind[0] != "in" or not kind[1] or "\x00" in kind[1]:
        return None
    return kind[1].lower()


def _original_leaf(field: str, pred: str) -> str:
    """``pred`` (a test of ``o``) on the original text of ``field`` (a repr), any element of a list value."""
    return (
        f"((o := _orig(E, {field})) is not None and ({pred} if o.__class__ is str else _any_of(lambda o: {pred}, o)))"
    )


def _plain(value: Any) -> bool:
    return isinstance(
        value, SigmaString | SigmaNumber | SigmaBool | SigmaCIDRExpression | SigmaExpansion
    ) and not isinstance(value, SigmaCasedString)


def _flatten_expansions(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, SigmaExpansion):
            out.extend(_flatten_expansions(list(value.values)))
        else:
            out.append(value)
    return out


def _as_contains(value: SigmaString) -> SigmaString:
    out = value
    if not value.startswith(STAR):
        out = STAR + out
    if not value.endswith(STAR):
        out = out + STAR
    return out
