"""Publishes outbox rows after their transaction committed; marks them so each goes out once per relay."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete, select

from mamori.platform import Platform
from mamori.storage.db import utcnow
from mamori.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 500
KEEP_PUBLISHED = timedelta(days=1)


def _claim(platform: Platform) -> list[tuple[int, str, dict[str, object]]]:
    with platform.db.session() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        return [(r.id, r.subject, dict(r.payload)) for r in rows]


def _mark(platform: Platform, ids: list[int]) -> None:
    with platform.db.session() as s:
        now = utcnow()
        for row in s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))):
            row.published_at = now
        s.execute(delete(OutboxMessage).where(OutboxMessage.published_at < now - KEEP_PUBLISHED))


async def relay_once(platform: Platform) -> int:
    rows = await asyncio.to_thread(_claim, platform)
    published: list[int] = []
    try:
        for row_id, subject, payload in rows:
            # The row id travels along: the live feed numbers its events with it (SSE `id:`).
            await platform.bus.publish(subject, {**payload, "outbox_id": row_id})
            published.append(row_id)
    finally:
        if published:
            await asyncio.to_thread(_mark, platform, published)
    return len(published)


async def run_relay(platform: Platform, interval: float = 0.1) -> None:
    while True:
        try:
            if await relay_once(platform) == BATCH:
                continue
        except Exception:
            log.exception("outbox relay failed; retrying")
        await asyncio.sleep(interval)
