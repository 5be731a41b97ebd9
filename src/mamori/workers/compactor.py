"""Merges the archive's small part files (one per ingest request) into one file per day and organisation."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from mamori.platform import Platform

log = logging.getLogger(__name__)


def compact_recent(platform: Platform) -> int:
    """Today's and yesterday's partitions: older ones were compacted when they were recent."""
    today = datetime.now(UTC).date()
    return sum(len(platform.archive.compact(day)) for day in (today - timedelta(days=1), today))


async def run_compactor(platform: Platform, interval: float = 900.0) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            merged = await asyncio.to_thread(compact_recent, platform)
            log.info("archive compaction merged %d partitions", merged)
        except Exception:
            log.exception("archive compaction failed; retrying later")
