"""Triggers from what a rule excludes: ``not Image|endswith: [.exe, .com …]`` fires only where that holds.

Why: rules made only of filters (``condition: not 1 of filter_*``) have no literal to trigger on, and were a
candidate of every event of their route — in a Sysmon process-creation log, three SigmaHQ rules ran on every
event that way. A rule implies each NOT in its top-level AND; when that NOT is over plain string tests of one
field, which the lower-cased value either passes or not, it is a necessary condition the prefilter can check
once per distinct value. Like every trigger it only narrows: the generated predicate decides.

The spec of one negation is text, so that triggers stay plain picklable data: tests joined by ``\\x01``, each
``kind\\x00literal`` with kind ``eq``, ``starts``, ``ends`` or ``in``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionOR
from sigma.types import SigmaCasedString, SigmaString

from mamori.detect.codegen import shape, string_parts
from mamori.detect.errors import RuleCompileError
from mamori.detect.routing import ROUTE_FIELDS

_TESTS = ("eq", "starts", "ends", "in")


def negated_trigger(node: Any) -> frozenset[tuple[str | None, str, str]] | None:
    """The trigger for ``not node``, when ``node`` is plain string tests of one field (alone or OR-ed)."""
    leaves = list(node.args) if isinstance(node, ConditionOR) else [node]
    field: str | None = None
    tests: list[str] = []
    for leaf in leaves:
        if not isinstance(leaf, ConditionFieldEqualsValueExpression) or leaf.field in ROUTE_FIELDS:
            return None
        if field not in (None, leaf.field):
            return None  # tests of several fields: the NOT is not a condition on one value
        test = _test(leaf.value)
        if test is None:
            return None
        field = leaf.field
        tests.append(test)
    if field is None:
        return None
    return frozenset({(field, "not", "\x01".join(sorted(tests)))})


def _test(value: Any) -> str | None:
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    try:
        kind = shape(string_parts(value))
    except RuleCompileError:
        return None
    if kind is None or kind[0] not in _TESTS:
        return None
    return f"{kind[0]}\x00{kind[1].lower()}"


class Negations:
    """The negation triggers of one field of one route: which rules a lower-cased value leaves possible."""

    def __init__(self, table: Mapping[str, Iterable[int]]) -> None:
        self.specs = [(_parse(spec), frozenset(ids)) for spec, ids in table.items()]
        self.every = frozenset().union(*(ids for _, ids in self.specs))  # an absent value passes every NOT

    def fired(self, low: Any) -> frozenset[int]:
        """The rules whose NOT holds for this lower-cased value (None: absent; a tuple, a list value: all)."""
        if low.__class__ is not str:
            return self.every
        out: frozenset[int] = frozenset()
        for tests, ids in self.specs:
            if not any(_passes(low, kind, literal) for kind, literal in tests):
                out |= ids
        return out


def _parse(spec: str) -> list[tuple[str, str]]:
    return [(kind, literal) for kind, _, literal in (test.partition("\x00") for test in spec.split("\x01"))]


def _passes(value: str, kind: str, literal: str) -> bool:
    if kind == "eq":
        return value == literal
    if kind == "starts":
        return value.startswith(literal)
    if kind == "ends":
        return value.endswith(literal)
    return literal in value
