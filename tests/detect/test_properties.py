"""Property tests: compiled value matchers (and the prefilter) against slow, obviously-right references."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sigma.conditions import ConditionFieldEqualsValueExpression, ConditionOR
from sigma.types import SigmaCIDRExpression, SigmaString, SpecialChars

from mamori.detect.codegen import CodeGen
from mamori.detect.compiler import Plan, Predicate, build_predicate
from mamori.detect.prefilter import Bucket, triggers
from mamori.detect.routing import Route
from mamori.detect.views import views

TEXT = st.text(alphabet="abAB.\\ *?é-", max_size=12)
PATTERN = st.text(alphabet="abAB.\\*?é", max_size=8)


def compile_node(node: Any) -> tuple[Predicate, Bucket]:
    gen = CodeGen()
    code = gen.node(node)
    plan = Plan(
        rule_id="p",
        title="p",
        level="low",
        tags=(),
        description="",
        path="",
        variant="v",
        name=None,
        code=code,
        consts=tuple(gen.consts),
        triggers=triggers(node),
        route=Route(),
        fields=(),
        reads=frozenset(gen.fields),
    )
    return build_predicate(plan), Bucket.build([(0, plan.triggers, plan.reads)])


def run(node: Any, value: str) -> bool:
    predicate, bucket = compile_node(node)
    flat, low = views({"f": value})
    verdict = predicate(low, flat)
    if verdict:  # the prefilter may only narrow: a match is always a candidate
        assert 0 in bucket.candidates(low, flat)
    return verdict


def sigma_tokens(pattern: str) -> list[Any]:
    """Sigma's escaping, read independently: \\* \\? \\\\ are literals, any other backslash is itself."""
    out: list[Any] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            out.append(pattern[i + 1])
            i += 2
            continue
        out.append({"*": "STAR", "?": "ONE"}.get(char, char))
        i += 1
    return out


def reference_match(tokens: list[Any], value: str) -> bool:
    """Case-insensitive glob by dynamic programming."""
    text = value.lower()
    toks = [t if t in ("STAR", "ONE") else t.lower() for t in tokens]

    @cache
    def at(t: int, v: int) -> bool:
        if t == len(toks):
            return v == len(text)
        tok = toks[t]
        if tok == "STAR":
            return at(t + 1, v) or (v < len(text) and at(t, v + 1))
        if v < len(text) and (tok == "ONE" or text[v : v + len(tok)] == tok):
            return at(t + 1, v + (1 if tok == "ONE" else len(tok)))
        return False

    return at(0, 0)


@settings(max_examples=300, deadline=None)
@given(PATTERN, TEXT)
def test_wildcards_and_escapes(pattern: str, value: str) -> None:
    node = ConditionFieldEqualsValueExpression("f", SigmaString(pattern))
    assert run(node, value) == reference_match(sigma_tokens(pattern), value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abAB.é-", min_size=1, max_size=6), TEXT, st.sampled_from(["contains", "starts", "ends"]))
def test_contains_startswith_endswith(needle: str, value: str, kind: str) -> None:
    value_s = SigmaString(needle)
    star = SpecialChars.WILDCARD_MULTI
    if kind == "contains":
        value_s = star + value_s + star
    elif kind == "starts":
        value_s = value_s + star
    else:
        value_s = star + value_s
    expected = {
        "contains": needle.lower() in value.lower(),
        "starts": value.lower().startswith(needle.lower()),
        "ends": value.lower().endswith(needle.lower()),
    }[kind]
    assert run(ConditionFieldEqualsValueExpression("f", value_s), value) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="abAB.-", min_size=1, max_size=4), min_size=1, max_size=7),
    TEXT,
    st.sampled_from(["contains", "starts", "ends", "exact"]),
)
def test_value_lists_are_or(needles: list[str], value: str, kind: str) -> None:
    """Lists go through the grouped paths (set, tuple, Aho-Corasick) from three values on."""
    star = SpecialChars.WILDCARD_MULTI
    leaves = []
    for needle in needles:
        s = SigmaString(needle)
        s = {"contains": star + s + star, "starts": s + star, "ends": star + s, "exact": s}[kind]
        leaves.append(ConditionFieldEqualsValueExpression("f", s))
    low = value.lower()
    check = {
        "contains": lambda n: n in low,
        "starts": low.startswith,
        "ends": low.endswith,
        "exact": lambda n: n == low,
    }[kind]
    expected = any(check(n.lower()) for n in needles)
    assert run(ConditionOR(leaves), value) == expected


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32), st.ip_addresses(v=4))
def test_cidr(base: ipaddress.IPv4Address, prefix: int, address: ipaddress.IPv4Address) -> None:
    network = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
    node = ConditionFieldEqualsValueExpression("f", SigmaCIDRExpression(str(network)))
    assert run(node, str(address)) == (address in network)


SEGMENT = st.text(alphabet="ab.", max_size=3)


@settings(max_examples=500, deadline=None)
@given(SEGMENT, st.lists(SEGMENT, max_size=3), SEGMENT, st.text(alphabet="ab.", max_size=10))
def test_linear_wildcard_search_equals_the_regex(prefix: str, middle: list[str], suffix: str, value: str) -> None:
    """`*`-only patterns run as an ordered search (matchers.glob): the same verdict as their regex."""
    import re

    from mamori.detect.matchers import glob

    pattern = re.escape(prefix) + "".join(".*" + re.escape(m) for m in middle) + ".*" + re.escape(suffix)
    expected = re.fullmatch(pattern, value, re.DOTALL) is not None
    assert glob(value, prefix, tuple(m for m in middle if m), suffix) == expected
