"""Integrity analysis takes attacker-controlled bytes: whatever they are, it returns a verdict."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.websites.integrity import Baseline, assess
from mamori.websites.schemas import ContentRules

from .pages import ministry_page

BASELINE = Baseline.approve(
    ministry_page(),
    url="https://www.interior.gov.example/",
    rules=ContentRules(ignore_selectors=("section.latest-news",), critical_selectors=("img#logo",)),
)
TAGS = [
    "html",
    "head",
    "body",
    "title",
    "script",
    "style",
    "iframe",
    "a",
    "div",
    "p",
    "h1",
    "form",
    "meta",
    "marquee",
    "audio",
    "embed",
    "table",
    "svg",
    "math",
    "template",
    "noscript",
    "!--",
    "![CDATA[",
]
ATTRS = [
    'src="//x.example/a.js"',
    'href="http://a.example"',
    'style="display:none"',
    "hidden",
    "autoplay",
    'http-equiv="refresh" content="0;url=//r.example"',
    'action="https://f.example/p"',
    'id="logo"',
]


@st.composite
def html_soup(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        tag = draw(st.sampled_from(TAGS))
        attr = draw(st.sampled_from(["", *ATTRS]))
        text = draw(st.text(max_size=30))
        closing = draw(st.booleans())
        parts.append(f"<{tag} {attr}>{text}" + (f"</{tag}>" if closing else ""))
    return "".join(parts)


def _check(data: bytes | str) -> None:
    verdict = assess(BASELINE, data)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.defaced == (verdict.score >= 0.5)
    assert all(isinstance(r, str) for r in verdict.reasons)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    _check(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_soup())
def test_arbitrary_html_never_crashes(html: str) -> None:
    _check(html)
    _check(html.encode("utf-16"))


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=3000))
def test_arbitrary_text_as_a_baseline_never_crashes(text: str) -> None:
    baseline = Baseline.approve(text, url="http://[::1]:8080/x")
    verdict = assess(baseline, ministry_page())
    assert 0.0 <= verdict.score <= 1.0


def test_deep_nesting_and_huge_attributes() -> None:
    _check("<div>" * 50_000 + "x" + "</div>" * 50_000)
    _check('<p style="' + "height:0px;" * 100_000 + '">x</p>')
    _check("<a href='" + "h" * 1_000_000 + "'>x</a>")
