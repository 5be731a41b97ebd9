"""Response workers: group new alerts into incidents, watch SLA clocks, deliver notifications."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mamori.alerts.models import Alert
from mamori.bus import subjects
from mamori.incidents import grouping, metrics, notifications
from mamori.incidents.errors import AlertInAnotherIncident
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
    try:
        with platform.db.session() as session:  # rolled back whole: no incident is left without its alert
            alert = session.get(Alert, alert_id)
            incident = grouping.group_alert(session, alert=alert) if alert is not None else None
            return incident.id if incident is not None else None
    except AlertInAnotherIncident as refused:  # someone escalated it meanwhile: nothing is left to group
        log.info("alert %s not grouped: %s", alert_id, refused.message)
        return None


async def subscribe_grouping(platform: Platform) -> None:
    async def handle(payload: dict[str, Any]) -> None:
        if payload.get("change") in ("created", "repeat"):
            await asyncio.to_thread(group, platform, int(payload["alert_id"]))

    # One group for the whole deployment: each alert is grouped by exactly one worker.
    await platform.bus.subscribe(subjects.ALERTS_CHANGED, group="incident-grouping", handler=handle)


def sweep(platform: Platform, *, max_batches: int = 50) -> tuple[int, int]:
    """One round: record new SLA breaches over every open incident (one transaction per batch, so a long
    backlog never holds one big transaction), then send pending notifications."""
    breaches, after_id = 0, 0
    for _ in range(max_batches):
        with platform.db.session() as session:
            scan = metrics.scan_breaches(session, now=utcnow(), after_id=after_id)
        breaches += len(scan.breaches)
        if scan.next_after_id is None:
            break
        after_id = scan.next_after_id
    with platform.db.session() as session:
        sent = notifications.deliver_pending(session, channels(platform))
    return breaches, sent


async def run_sweeper(platform: Platform, interval: float = 30.0) -> None:
    while True:
        await asyncio.sleep(interval)  # first round after one interval: start-up stays light
        try:
            await asyncio.to_thread(sweep, platform)
        except Exception:
            log.exception("response sweep failed; retrying")
