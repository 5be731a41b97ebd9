"""The detect stage: accepted batches → matcher → alerts. Idempotent per batch and per detection key."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from mamori.alerts import service as alerts
from mamori.bus import subjects
from mamori.core.messages import Event
from mamori.ingest import service as ingest
from mamori.ingest.models import IngestBatch
from mamori.platform import Platform
from mamori.storage.db import utcnow

log = logging.getLogger(__name__)


SWEEP_GRACE = timedelta(seconds=60)  # younger batches are still on their way through the bus


def detect_batch(platform: Platform, batch_id: str, events: list[Event] | None) -> int:
    """Run detection for one batch unless it ran already; returns the number of detections.

    One batch at a time per process (the matcher keeps correlation state); across processes the row lock on
    the batch (PostgreSQL) and the unique detection keys make a second run a no-op.
    """
    if platform.matcher is None:
        return 0
    with platform.detect_lock:
        try:
            return _detect_locked(platform, batch_id, events)
        except IntegrityError:
            log.info("batch %s was detected concurrently by another worker", batch_id)
            return 0


def _detect_locked(platform: Platform, batch_id: str, events: list[Event] | None) -> int:
    assert platform.matcher is not None
    with platform.db.session() as session:
        batch = session.get(IngestBatch, batch_id, with_for_update=True)
        if batch is None or batch.detected_at is not None:
            return 0
        if events is None:
            events = ingest.load_batch_events(batch)
        started = time.perf_counter()
        detections = platform.matcher.match(events)
        if batch.exercise_id:
            detections = [replace(d, exercise_id=batch.exercise_id, key="") for d in detections]
        platform.metrics.stage_latency.labels("detect").observe(time.perf_counter() - started)
        started = time.perf_counter()
        folded = alerts.fold(session, detections, keep_events=platform.settings.alert_events_kept)
        batch.detected_at = utcnow()
        platform.metrics.stage_latency.labels("alerts").observe(time.perf_counter() - started)
    for d in detections:
        platform.metrics.detections.labels(d.producer).inc()
    for f in folded:
        if f.created:
            platform.metrics.alerts_created.labels(f.alert.severity).inc()
    return len(detections)


async def subscribe_detect(platform: Platform) -> None:
    cache = platform.batch_cache

    async def handle(payload: dict[str, Any]) -> None:
        batch_id = str(payload["batch_id"])
        await asyncio.to_thread(detect_batch, platform, batch_id, cache.pop(batch_id))

    await platform.bus.subscribe(subjects.EVENTS_ACCEPTED, group="detect", handler=handle)


def sweep_pending(platform: Platform) -> int:
    """Detect batches that were archived but never detected (a crash, a lost message)."""
    with platform.db.session() as session:
        pending = [b.id for b in ingest.pending_batches(session, older_than=utcnow() - SWEEP_GRACE)]
        platform.metrics.pending_batches.set(ingest.count_pending(session))
    return sum(detect_batch(platform, batch_id, None) for batch_id in pending)


async def run_sweeper(platform: Platform, interval: float = 30.0) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(sweep_pending, platform)
        except Exception:
            log.exception("sweeping pending batches failed")
