"""The scheduler: stable jittered slots, bounded concurrency, no overlapping checks of one site."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from mamori.websites.scheduler import Scheduler, next_due, slot_offset
from mamori.websites.schemas import SiteExpectations


def fast_site(site_id: str, interval: float) -> SiteExpectations:
    # model_construct: the schema refuses intervals under 10 s, which a fast test needs
    return SiteExpectations.model_construct(site_id=site_id, org="o", url="http://x/", interval_seconds=interval)


def test_slots_are_stable_and_spread_uniformly() -> None:
    offsets = [slot_offset(f"site-{i}", 300) for i in range(10_000)]
    assert offsets[:3] == [slot_offset(f"site-{i}", 300) for i in range(3)]
    assert all(0 <= o < 300 for o in offsets)
    buckets = Counter(int(o // 30) for o in offsets)
    assert len(buckets) == 10 and all(850 < n < 1150 for n in buckets.values())


def test_next_due_is_the_first_slot_not_before_now() -> None:
    offset = slot_offset("a", 60)
    for now in (0.0, offset, offset + 0.001, 1_000_000.5):
        due = next_due("a", 60, now)
        assert now <= due < now + 60 and abs((due - offset) / 60 - round((due - offset) / 60)) < 1e-9


def test_runs_each_site_every_interval_with_bounded_concurrency() -> None:
    seen: list[tuple[str, float]] = []
    in_flight, peak = 0, 0

    async def run_check(site: SiteExpectations) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        seen.append((site.site_id, time.monotonic()))
        await asyncio.sleep(0.02)
        in_flight -= 1

    async def go() -> None:
        scheduler = Scheduler(run_check, concurrency=3)
        for i in range(30):
            scheduler.upsert(fast_site(f"s{i}", 0.3))
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.05, stop.set)
        await scheduler.run(stop)

    asyncio.run(go())
    per_site = Counter(s for s, _ in seen)
    assert len(per_site) == 30 and all(2 <= n <= 5 for n in per_site.values()), per_site
    assert peak <= 3
    first = sorted(min(t for s, t in seen if s == sid) for sid in per_site)
    assert first[-1] - first[0] > 0.1  # spread over the interval, not a burst


def test_a_slow_site_skips_slots_instead_of_overlapping() -> None:
    running: set[str] = set()
    overlaps = 0

    async def run_check(site: SiteExpectations) -> None:
        nonlocal overlaps
        overlaps += site.site_id in running
        running.add(site.site_id)
        await asyncio.sleep(0.35)
        running.discard(site.site_id)

    async def go() -> Scheduler:
        scheduler = Scheduler(run_check)
        scheduler.upsert(fast_site("slow", 0.1))
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.8, stop.set)
        await scheduler.run(stop)
        return scheduler

    scheduler = asyncio.run(go())
    assert overlaps == 0 and scheduler.skipped >= 3


def test_failing_callback_and_removed_sites() -> None:
    calls: Counter[str] = Counter()

    async def run_check(site: SiteExpectations) -> None:
        calls[site.site_id] += 1
        raise RuntimeError("boom")

    async def go() -> Scheduler:
        scheduler = Scheduler(run_check)
        scheduler.upsert(fast_site("a", 0.1))
        scheduler.upsert(fast_site("gone", 0.1))
        scheduler.remove("gone")
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.35, stop.set)
        await scheduler.run(stop)
        return scheduler

    scheduler = asyncio.run(go())
    assert calls["a"] >= 2 and calls["gone"] == 0 and scheduler.errors == calls["a"]
