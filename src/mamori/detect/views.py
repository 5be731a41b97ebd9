"""The two views of an event the compiled rules read (see :mod:`mamori.detect.matchers`).

``flat``: nested JSON objects become dotted names (``debugContext.debugData.behaviors``), as Sigma rules for
JSON sources name them. ``low``: every value as lower-cased text (lists as tuples of texts), ``raw`` left out.
"""

from __future__ import annotations

from typing import Any

from mamori.core.messages import RAW
from mamori.detect.matchers import KEYWORD_SKIP, KEYWORDS

RAW_FIELDS = frozenset({RAW})  # the original record: never matched (it repeats every field's name and value)
_STR_INT = frozenset({str, int})


def views(event: dict[str, Any], reads: frozenset[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(flat original, lower-cased text view) of one event; built once per event, shared by all rules.

    ``reads``: the only fields any candidate rule reads (None: all) — lower-casing a long field nobody tests
    is the single largest avoidable cost per event. ``KEYWORDS`` in ``reads`` (or None) adds the joined text
    keyword searches use (see :data:`mamori.detect.matchers.KEYWORDS`).
    """
    names = (event.keys() if reads is None else event.keys() & reads) - RAW_FIELDS
    low: dict[str, Any] = {}
    for name in names:
        value = event[name]
        cls = value.__class__
        if cls is str:
            low[name] = value.lower()
        elif cls is int:
            low[name] = str(value)
        elif value is not None:
            text = _low(value)
            if text is not None:
                low[name] = text
    if reads is None or KEYWORDS in reads:
        low[KEYWORDS] = keyword_text(event)  # always ours: an event's own field of that name is overwritten
    return event, low


def low_value(value: Any) -> Any:
    """One value as the lower-cased view holds it (None: absent or not matchable)."""
    cls = value.__class__
    if cls is str:
        return value.lower()
    if cls is int:
        return str(value)
    return None if value is None else _low(value)


def keyword_text(event: dict[str, Any]) -> str:
    """Every value a keyword is searched in (the texts of :func:`mamori.detect.matchers.keyword_values`), joined
    by NUL and lower-cased once (see :data:`mamori.detect.matchers.KEYWORDS`)."""
    values = list(map(event.__getitem__, event.keys() - KEYWORD_SKIP))  # order is irrelevant to a substring test
    if set(map(type, values)) <= _STR_INT:  # parsed Windows and web events: all C-level calls
        return "\x00".join(map(str, values)).lower()
    texts: list[str] = []
    for value in map(low_value, values):
        if value.__class__ is str:
            texts.append(value)
        elif value is not None:
            texts.extend(value)  # a list value: its texts
    return "\x00".join(texts)


def is_nested(event: dict[str, Any]) -> bool:
    return dict in map(type, event.values())  # C-level scan: this runs once per event


def _low(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list | tuple):
        items = tuple(t for t in (_low(v) for v in value) if isinstance(t, str))
        return items or None
    if isinstance(value, dict):
        return None
    return value.lower() if isinstance(value, str) else str(value)


def flatten(event: dict[str, Any]) -> dict[str, Any]:
    """Nested JSON objects as dotted names; the event itself when it is flat already.

    Windows events are flat by the parser's contract (docs/event-fields.md): no scan for them.
    """
    if event.get("source") == "windows" or not is_nested(event):
        return event
    flat: dict[str, Any] = {}
    _flatten(event, "", flat, 0)
    return flat


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], depth: int) -> None:
    for name, value in obj.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and depth < 16:  # bounded: events are untrusted
            _flatten(value, key + ".", out, depth + 1)
        else:
            out[key] = value
