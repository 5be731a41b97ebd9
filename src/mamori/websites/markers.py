"""Defacement markers, loaded from ``content/defacement-markers.yaml`` and matched in one regex pass."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from mamori.core.errors import ConfigurationError

MARKERS_FILE = "defacement-markers.yaml"
KINDS = ("phrase", "signature")
# A hit "stands alone" (a heading or banner, not a sentence in an article) when its line is short and
# at most a few words precede it, none of them the auxiliaries of a narrated past ("was hacked by").
_MAX_LINE_WORDS = 12
_MAX_LINE_CHARS = 100
_MAX_PREFIX_WORDS = 3
_NARRATIVE = frozenset({"was", "were", "been", "is", "are", "had", "has", "be", "being", "not", "never"})
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Marker:
    id: str
    kind: str
    lang: str
    pattern: str
    anchors: tuple[str, ...]
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigurationError(f"kind must be one of {KINDS}", where=f"{MARKERS_FILE}:{self.id}")
        if not self.anchors or any(a != a.lower() or not a for a in self.anchors):
            raise ConfigurationError("anchors must be non-empty lower-case literals", where=f"{MARKERS_FILE}:{self.id}")
        try:
            object.__setattr__(self, "_regex", re.compile(self.pattern, re.IGNORECASE))
        except re.error as exc:
            raise ConfigurationError(f"bad pattern: {exc}", where=f"{MARKERS_FILE}:{self.id}") from exc

    @property
    def regex(self) -> re.Pattern[str]:
        compiled: re.Pattern[str] = object.__getattribute__(self, "_regex")
        return compiled


@dataclass(frozen=True, slots=True)
class MarkerHit:
    marker: Marker
    line: str
    standalone: bool


class MarkerSet:
    """The markers of one content file.

    Regular expressions over a whole page cost about a microsecond per character each, so a marker's regex
    only runs when one of its literal anchors occurs in the page (plain substring search, far faster).
    """

    def __init__(self, markers: Sequence[Marker]) -> None:
        self.markers = tuple(markers)

    def hits(self, lines: Sequence[str]) -> Iterator[MarkerHit]:
        text = "\n".join(lines)
        lowered = text.lower()
        active = [m for m in self.markers if any(a in lowered for a in m.anchors)]
        if not active:
            return
        starts = [0]
        for line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)
        for marker in active:
            for match in marker.regex.finditer(text):
                n = bisect_right(starts, match.start()) - 1
                line = lines[n]
                yield MarkerHit(marker, line[:200], _standalone(line, match.start() - starts[n]))

    def count(self, lines: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for hit in self.hits(lines):
            counts[hit.marker.id] = counts.get(hit.marker.id, 0) + 1
        return counts


def _standalone(line: str, start: int) -> bool:
    if len(line) > _MAX_LINE_CHARS or len(_WORD.findall(line)) > _MAX_LINE_WORDS:
        return False
    prefix = [w.lower() for w in _WORD.findall(line[:start])]
    return len(prefix) <= _MAX_PREFIX_WORDS and not _NARRATIVE.intersection(prefix)


def parse_markers(document: Any) -> list[Marker]:
    """Build markers from the YAML document; every problem is collected and reported at once."""
    if not isinstance(document, dict) or not isinstance(document.get("markers"), list):
        raise ConfigurationError("expected a mapping with a 'markers' list", where=MARKERS_FILE)
    markers: list[Marker] = []
    errors: list[str] = []
    for n, item in enumerate(document["markers"]):
        try:
            markers.append(_marker(item))
        except (ConfigurationError, KeyError, TypeError) as exc:
            errors.append(f"entry {n}: {exc}")
    ids = [m.id for m in markers]
    errors += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if errors:
        raise ConfigurationError("; ".join(errors), where=MARKERS_FILE)
    return markers


def _marker(item: dict[str, Any]) -> Marker:
    return Marker(
        id=str(item["id"]),
        kind=str(item["kind"]),
        lang=str(item.get("lang", "")),
        pattern=str(item["pattern"]),
        anchors=tuple(str(x) for x in item.get("anchors", ())),
        examples=tuple(str(x) for x in item.get("examples", ())),
        counter_examples=tuple(str(x) for x in item.get("counter_examples", ())),
    )


@lru_cache(maxsize=1)
def default_markers() -> MarkerSet:
    """The shipped marker set, read on first use (nothing is built at import)."""
    text = resources.files("mamori.websites.content").joinpath(MARKERS_FILE).read_text("utf-8")
    return MarkerSet(parse_markers(yaml.safe_load(text)))
