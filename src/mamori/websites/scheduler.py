"""Spread checks over time: each site gets a stable, jittered slot within its interval.

Ten thousand sites on a five-minute interval must not all be fetched at second zero (a burst that looks like
an attack to the sites and starves the checker). Each site's first check falls at ``hash(site) mod
interval`` seconds, and then every interval after; the slot is stable across restarts, so a site's checks
stay evenly spaced. At most ``concurrency`` checks run at once, and a site whose previous check is still
running skips that slot rather than piling up.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import math
import time
from collections.abc import Awaitable, Callable

from mamori.websites.schemas import SiteExpectations

log = logging.getLogger(__name__)
RunCheck = Callable[[SiteExpectations], Awaitable[None]]


def slot_offset(site_id: str, interval: float) -> float:
    """Where in each interval the site is checked, in seconds: stable, uniform over [0, interval)."""
    digest = hashlib.sha256(site_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * interval


def next_due(site_id: str, interval: float, now: float) -> float:
    """The first slot of the site at or after ``now`` (seconds on the scheduler's clock)."""
    offset = slot_offset(site_id, interval)
    return offset + max(math.ceil((now - offset) / interval), 0) * interval


class Scheduler:
    def __init__(
        self,
        run_check: RunCheck,
        *,
        concurrency: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` is wall time by default so that slots keep their phase across restarts."""
        self.run_check = run_check
        self.clock = clock
        self.limit = asyncio.Semaphore(concurrency)
        self.sites: dict[str, SiteExpectations] = {}
        self.running: set[str] = set()
        self.skipped = 0  # slots skipped because the site's previous check was still running
        self.errors = 0  # checks whose callback raised
        self._heap: list[tuple[float, int, str]] = []
        self._version: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def upsert(self, site: SiteExpectations) -> None:
        """Add or change a site; its next slot is recomputed (an old heap entry becomes stale)."""
        self.sites[site.site_id] = site
        version = self._version.get(site.site_id, 0) + 1
        self._version[site.site_id] = version
        due = next_due(site.site_id, site.interval_seconds, self.clock())
        heapq.heappush(self._heap, (due, version, site.site_id))
        self._wake.set()

    def remove(self, site_id: str) -> None:
        self.sites.pop(site_id, None)
        self._version[site_id] = self._version.get(site_id, 0) + 1

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then wait for the checks in flight."""
        while not stop.is_set():
            delay = self._launch_due()
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _launch_due(self) -> float:
        """Start every check whose slot has come; return seconds until the next slot."""
        now = self.clock()
        while self._heap and self._heap[0][0] <= now:
            _, version, site_id = heapq.heappop(self._heap)
            site = self.sites.get(site_id)
            if site is None or version != self._version.get(site_id):
                continue  # removed or rescheduled
            heapq.heappush(self._heap, (next_due(site_id, site.interval_seconds, now + 1e-6), version, site_id))
            if site_id in self.running:
                self.skipped += 1
                continue
            self.running.add(site_id)
            task = asyncio.create_task(self._one(site))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return max(0.0, self._heap[0][0] - now) if self._heap else 3600.0

    async def _one(self, site: SiteExpectations) -> None:
        try:
            async with self.limit:
                await self.run_check(site)
        except Exception:  # one site's failure must never stop the others' schedule
            self.errors += 1
            log.exception("website check of %s failed", site.site_id)
        finally:
            self.running.discard(site.site_id)
