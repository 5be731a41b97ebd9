"""The two views of an event the compiled rules read (see :mod:`mamori.detect.matchers`).

``flat``: nested JSON objects become dotted names (``debugContext.debugData.behaviors``), as Sigma rules for
JSON sources name them. ``low``: every value as lower-cased text (lists as tuples of texts), ``raw`` left out.
"""

from __future__ import annotations

from typing import Any

from mamori.core.messages import RAW

_SKIP = frozenset({RAW})


def views(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(flat original, lower-cased text view) of one event; built once per event, shared by all rules."""
    low: dict[str, Any] = {}
    for name, value in event.items():
        cls = value.__class__
        if cls is str:
            if name not in _SKIP:
                low[name] = value.lower()
        elif cls is int:
            low[name] = str(value)
        elif cls is dict:
            return _nested(event)
        elif value is not None:
            text = _low(value)
            if text is not None:
                low[name] = text
    return event, low


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


def _nested(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    flat: dict[str, Any] = {}
    _flatten(event, "", flat, 0)
    low: dict[str, Any] = {}
    for name, value in flat.items():
        if name in _SKIP or value is None:
            continue
        text = _low(value)
        if text is not None:
            low[name] = text
    return flat, low


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], depth: int) -> None:
    for name, value in obj.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and depth < 16:  # bounded: events are untrusted
            _flatten(value, key + ".", out, depth + 1)
        else:
            out[key] = value
