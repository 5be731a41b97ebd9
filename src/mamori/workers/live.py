"""Feeds alert changes to the live views (SSE) of this process."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from mamori.alerts import live
from mamori.alerts.models import Alert
from mamori.bus import subjects
from mamori.platform import Platform


def _summary(platform: Platform, alert_id: int) -> dict[str, Any] | None:
    with platform.db.session() as session:
        alert = session.get(Alert, alert_id)
        return None if alert is None else live.summary(alert)


async def subscribe_live(platform: Platform) -> None:
    async def handle(payload: dict[str, Any]) -> None:
        summary = await asyncio.to_thread(_summary, platform, int(payload["alert_id"]))
        if summary is not None:
            summary["change"] = payload.get("change", "")
            summary["event_id"] = payload.get("outbox_id")  # the SSE id; never sent as data
            platform.broadcaster.send(summary)

    # Every process with live views needs every change: one group per process.
    group = f"live-{socket.gethostname()}-{id(platform)}"
    await platform.bus.subscribe(subjects.ALERTS_CHANGED, group=group, handler=handle)
