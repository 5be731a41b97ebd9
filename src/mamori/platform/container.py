from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mamori.bus.base import Bus
from mamori.core.messages import Detection, Event
from mamori.ingest.archive import EventArchive
from mamori.platform.broadcast import Broadcaster
from mamori.platform.cache import BatchCache
from mamori.platform.metrics import Metrics
from mamori.settings import Settings
from mamori.storage.db import Database


class Matcher(Protocol):
    """What the pipeline needs from a detection engine (`mamori.detect.Engine` is one)."""

    def match(self, events: Sequence[Event]) -> list[Detection]: ...


@dataclass
class Platform:
    settings: Settings
    db: Database
    bus: Bus
    archive: EventArchive
    metrics: Metrics = field(default_factory=lambda: Metrics())
    broadcaster: Broadcaster = field(default_factory=lambda: Broadcaster())
    batch_cache: BatchCache = field(default_factory=lambda: BatchCache())
    matcher: Matcher | None = None
    detect_lock: threading.Lock = field(default_factory=threading.Lock)
    syslog: Any = None  # the running SyslogListener, when syslog ports are configured

    def note_accepted(self, org: str, batch_id: str, events: list[Event], rejected: int) -> None:
        """After an ingest commit: count it, and hand the parsed events to this process's detect stage."""
        self.metrics.events_accepted.labels(org).inc(len(events))
        self.metrics.events_rejected.labels(org).inc(rejected)
        if events:
            self.batch_cache.put(batch_id, events)
