"""Regex triggers (Hyperscan, prefilter mode) may report too much, never too little: RE2 matches ⇒ fired."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.detect import regexes
from mamori.detect.engine import Engine
from mamori.detect.matchers import compile_untrusted_regex
from mamori.detect.regexes import RegexSet, eligible

pytestmark = [
    pytest.mark.xdist_group("sigmahq"),
    pytest.mark.skipif(not regexes.available(), reason="Hyperscan is not installed on this platform"),
]

ASCII = st.characters(codec="ascii")


def fires(pattern: str, text: str) -> bool:
    return 0 in RegexSet({pattern: [0]}).fired(text)


def re2(pattern: str, text: str) -> bool:
    matched: bool = compile_untrusted_regex(pattern, "").search(text)
    return matched


def test_a_regex_fires_where_it_occurs_and_not_elsewhere() -> None:
    snake = r"\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}"
    assert fires(snake, "jpsetup.exe " + "a" * 64 + " " + "b" * 16)
    assert not fires(snake, "jpsetup.exe install")
    several = RegexSet({snake: [1], r"\w+`(?:\w+|-|.)`[\w+|\s]": [2, 3]})
    assert several.fired("IN`V`o`Ke-eXp`ResSIOn") == {2, 3}
    assert several.fired("nothing here") == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        '\u017fet x&& set invoke && x"',  # long s: RE2's (?i)s matches it, lower-casing does not
        "\u212aerberos",  # Kelvin sign, folded onto k by RE2
        "caf\u00e9 \u30c6\u30b9\u30c8",  # any non-ASCII value: UTF-8 code points
        "a\x0bb",  # vertical tab: RE2's \S matches it, PCRE's does not
    ],
)
def test_values_hyperscan_may_misjudge_fire_every_rule(text: str) -> None:
    regex_set = RegexSet({r"(?i)set.*&&": [1], r"\S\S\S": [2], r"zzz": [3]})
    assert regex_set.fired(text) == {1, 2, 3}


def test_a_pattern_hyperscan_refuses_fires_always_and_the_others_still_work() -> None:
    refused = r"\Gstart"  # an anchor Hyperscan does not know (nor RE2): it must not break the rest
    regex_set = RegexSet({refused: [1], r"evil\d+": [2]})
    assert regex_set.fired("harmless") == {1}
    assert regex_set.fired("evil42") == {1, 2}


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (r"\s[a-f0-9]{64}", True),
        (r"(?i)set.*&&", True),
        (r"(?m)^\s*$", False),  # multi-line: PCRE's ^ does not match after a final newline, RE2's does
        (r"(?im)x", False),
        (r"\x{212A}elvin", False),  # names a code point beyond ASCII
        (r"\p{Greek}", False),
        (r"\pL+", False),
        ("caf\u00e9", False),
        (r".{1000,}", False),  # a large count: ~0.4 s for Hyperscan to compile, fast for RE2
        (r"\s[a-f0-9]{64}", True),
        (r"a\{1000\}", True),  # escaped braces are text
    ],
)
def test_which_patterns_go_to_hyperscan(pattern: str, ok: bool) -> None:
    assert eligible(pattern) is ok


def _sigmahq_regex_triggers(engine: Engine) -> list[str]:
    return sorted({lit for plan in engine.rules.plans for _, kind, lit in (plan.triggers or ()) if kind == "re"})


def _python_can_generate(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def test_every_sigmahq_regex_trigger_fires_on_what_re2_matches(sigmahq_engine: Engine) -> None:
    """Strings generated from each SigmaHQ pattern (plus noise around them): wherever RE2 matches, it fired."""
    patterns = [p for p in _sigmahq_regex_triggers(sigmahq_engine) if _python_can_generate(p)]
    assert len(patterns) >= 10  # SigmaHQ holds a few dozen regexes without a literal (RE2-only syntax aside)

    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        pattern = data.draw(st.sampled_from(patterns))
        core = data.draw(st.from_regex(pattern, alphabet=ASCII))
        noise = data.draw(st.text(alphabet=st.sampled_from(" \t\r\n\x0b\x00-_\\/.:`\"'aZ09&$"), max_size=6))
        text = data.draw(st.sampled_from([core, noise + core, core + noise, noise + core + noise]))
        regex_set = RegexSet({pattern: [0]})
        if re2(pattern, text):
            assert 0 in regex_set.fired(text), (pattern, text)

    check()
