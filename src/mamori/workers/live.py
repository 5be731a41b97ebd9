"""Feeds alert changes to the live views (SSE) of this process."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from mamori.alerts.models import Alert
from mamori.alerts.service import source_address
from mamori.bus import subjects
from mamori.platform import Platform


def _summary(platform: Platform, alert_id: int) -> dict[str, Any] | None:
    with platform.db.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return None
        return {
            "id": alert.id,
            "org": alert.org_id,
            "title": alert.rule_title,
            "severity": alert.severity,
            "status": alert.status,
            "count": alert.count,
            "last_seen": alert.last_seen.isoformat(),
            "src_ip": source_address(alert.entities),
            "host": alert.entities.get("host"),
        }


async def subscribe_live(platform: Platform) -> None:
    async def handle(payload: dict[str, Any]) -> None:
        summary = await asyncio.to_thread(_summary, platform, int(payload["alert_id"]))
        if summary is not None:
            summary["change"] = payload.get("change", "")
            platform.broadcaster.send(summary)

    # Every process with live views needs every change: one group per process.
    group = f"live-{socket.gethostname()}-{id(platform)}"
    await platform.bus.subscribe(subjects.ALERTS_CHANGED, group=group, handler=handle)
