"""The per-site :class:`~mamori.websites.detections.WatchState`, to and from the JSON column it lives in."""

from __future__ import annotations

from datetime import datetime
from types import MappingProxyType
from typing import Any

from mamori.websites.availability import AvailabilityState
from mamori.websites.detections import WatchState
from mamori.websites.enums import Availability


def to_json(state: WatchState) -> dict[str, Any]:
    a = state.availability
    return {
        "availability": {
            "status": str(a.status),
            "consecutive_failures": a.consecutive_failures,
            "episode": a.episode,
            "since": a.since.isoformat() if a.since else None,
            "last_error": a.last_error,
        },
        "episodes": dict(state.episodes),
        "active": sorted(state.active),
    }


def from_json(data: dict[str, Any]) -> WatchState:
    """An empty or unreadable column is a fresh state (the site is treated as never checked)."""
    if not data:
        return WatchState()
    a = data.get("availability") or {}
    since = a.get("since")
    availability = AvailabilityState(
        status=Availability(a.get("status", Availability.UNKNOWN)),
        consecutive_failures=int(a.get("consecutive_failures", 0)),
        episode=int(a.get("episode", 0)),
        since=datetime.fromisoformat(since) if since else None,
        last_error=a.get("last_error"),
    )
    episodes = {str(k): int(v) for k, v in (data.get("episodes") or {}).items()}
    return WatchState(availability, MappingProxyType(episodes), frozenset(data.get("active") or ()))
