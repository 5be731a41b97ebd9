"""Response workers: group new alerts into incidents, watch SLA clocks, deliver notifications."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mamori.alerts.models import Alert
from mamori.bus import subjects
from mamori.incidents import grouping, metrics, notifications
from mamori.platform import Platform
from mamori.storage.db import utcnow

log = logging.getLogger(__name__)


def channels(platform: Platform) -> notifications.Channels:
    s = platform.settings
    return notifications.Channels(
        smtp_host=s.smtp_host,
        smtp_port=s.smtp_port,
        mail_from=s.mail_from,
        webhook_url=s.webhook_url,
        webhook_allow=tuple(s.webhook_allow),
    )


def group(platform: Platform, alert_id: int) -> int | None:
    with platform.db.session() as session:
        alert = session.get(Alert, alert_id)
        incident = grouping.group_alert(session, alert=alert) if alert is not None else None
        return incident.id if incident is not None else None


async def subscribe_grouping(platform: Platform) -> None:
    async def handle(payload: dict[str, Any]) -> None:
        if payload.get("change") in ("created", "repeat"):
            await asyncio.to_thread(group, platform, int(payload["alert_id"]))

    # One group for the whole deployment: each alert is grouped by exactly one worker.
    await platform.bus.subscribe(subjects.ALERTS_CHANGED, group="incident-grouping", handler=handle)


def sweep(platform: Platform) -> tuple[int, int]:
    """One round: record new SLA breaches, then send pending notifications."""
    with platform.db.session() as session:
        breaches = len(metrics.scan_breaches(session, now=utcnow()))
    with platform.db.session() as session:
        sent = notifications.deliver_pending(session, channels(platform))
    return breaches, sent


async def run_sweeper(platform: Platform, interval: float = 30.0) -> None:
    while True:
        try:
            await asyncio.to_thread(sweep, platform)
        except Exception:
            log.exception("response sweep failed; retrying")
        await asyncio.sleep(interval)
