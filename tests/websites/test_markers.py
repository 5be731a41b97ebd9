"""The defacement marker content: every example matches, every counter-example does not, the file is sound."""

from __future__ import annotations

import pytest
import yaml

from mamori.core.errors import ConfigurationError
from mamori.websites.markers import MarkerSet, default_markers, parse_markers

MARKERS = default_markers().markers


def test_the_shipped_file_loads_and_covers_the_languages() -> None:
    langs = {m.lang for m in MARKERS}
    assert {"en", "id", "tr", "pt", "ar", "ja", "zh"} <= langs
    assert all(m.examples and m.counter_examples for m in MARKERS)


@pytest.mark.parametrize("marker", MARKERS, ids=lambda m: m.id)
def test_examples_match(marker) -> None:  # type: ignore[no-untyped-def]
    single = MarkerSet([marker])
    for example in marker.examples:
        assert any(a in example.lower() for a in marker.anchors), f"{example!r} contains no anchor"
        assert any(h.standalone for h in single.hits([example])), f"{marker.id} misses {example!r}"


@pytest.mark.parametrize("marker", MARKERS, ids=lambda m: m.id)
def test_counter_examples_do_not_match(marker) -> None:  # type: ignore[no-untyped-def]
    single = MarkerSet([marker])
    for text in marker.counter_examples:
        assert not any(h.standalone for h in single.hits([text])), f"{marker.id} wrongly matches {text!r}"


def test_standalone_versus_running_text() -> None:
    markers = default_markers()
    (alone,) = [h for h in markers.hits(["Hacked By Sharkin."]) if h.marker.id == "en.hacked-by"]
    (inside,) = [
        h for h in markers.hits(["Last year the website was hacked by criminals"]) if h.marker.id == "en.hacked-by"
    ]
    assert alone.standalone and not inside.standalone


def test_bad_content_is_refused_with_every_problem_named() -> None:
    doc = yaml.safe_load(
        """
markers:
  - {id: a, kind: phrase, pattern: '(', anchors: [x]}
  - {id: b, kind: nonsense, pattern: 'x', anchors: [x]}
  - {id: c, kind: phrase, pattern: 'x', anchors: [X]}
  - {id: d, kind: phrase, pattern: 'x', anchors: [x]}
  - {id: d, kind: phrase, pattern: 'x', anchors: [x]}
"""
    )
    with pytest.raises(ConfigurationError) as err:
        parse_markers(doc)
    text = str(err.value)
    assert "entry 0" in text and "entry 1" in text and "entry 2" in text and "duplicate id d" in text
    with pytest.raises(ConfigurationError):
        parse_markers({"nope": 1})
