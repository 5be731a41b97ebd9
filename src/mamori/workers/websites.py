"""The website watch inside a platform process: scheduler → checker → check rows, snapshots and alerts.

Every enabled site gets a slot in the core :class:`~mamori.websites.scheduler.Scheduler`. A check runs on the
event loop (the checker is asynchronous); everything that touches the database or parses a page runs in a
thread (``asyncio.to_thread``), so a slow SQLite commit never stalls the API. One transaction per check
records the result, the site's new state and the alerts: detections go through ``alerts.fold`` (whose
outbox rows announce them after commit), and alerts whose problem ended (the site answers again, the page is
clean again) are closed with a resolution and a comment saying why.

The registry reaches the watch through ``mamori.websites.changed`` (created, updated, deleted, check now),
and a periodic full re-read catches anything a lost message would have missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.alerts import service as alerts
from mamori.alerts.enums import Resolution
from mamori.alerts.models import Alert
from mamori.bus import subjects
from mamori.core.messages import Detection
from mamori.platform import Platform
from mamori.websites import recording, service
from mamori.websites import state as watch_state
from mamori.websites.checker import UNCHANGED, Checker
from mamori.websites.detections import evaluate
from mamori.websites.integrity import Baseline, assess
from mamori.websites.models import Website
from mamori.websites.results import CheckResult
from mamori.websites.scheduler import Scheduler
from mamori.websites.schemas import SiteExpectations
from mamori.websites.storage import PageStores
from mamori.websites.volatile import learn_bounded

log = logging.getLogger(__name__)
ACTOR = "website-watch"
PRUNE_EVERY = 3600.0  # seconds between retention passes
_CONTENT_RULES = frozenset(f"website.{k}" for k in recording.CONTENT_KINDS)


@dataclass(frozen=True)
class _LoadedBaseline:
    id: int
    approved_by: str
    approved_at: datetime
    baseline: Baseline


class Watch:
    def __init__(
        self, platform: Platform, *, checker: Checker | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        settings = platform.settings
        self.platform = platform
        self.stores = PageStores.under(settings.data_dir)
        self.checker = checker or Checker()
        self.scheduler = Scheduler(self._scheduled, concurrency=settings.websites_concurrency, clock=clock)
        self.uids: dict[int, str] = {}  # database id -> uid, of the sites scheduled
        self._cache: dict[str, tuple[tuple[Any, ...], _LoadedBaseline]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.checks = 0
        self._pruned_at = float("-inf")

    # --- the registry ------------------------------------------------------------------------------------
    async def sync(self) -> None:
        """Schedule exactly the enabled sites, as they are now; check new, never-checked sites at once."""
        sites = await asyncio.to_thread(self._load_enabled)
        for site_id in set(self.uids) - {s[0] for s in sites}:
            uid = self.uids.pop(site_id)
            self.scheduler.remove(uid)
            self._cache.pop(uid, None)
        for site_id, expect, never_checked in sites:
            if self.scheduler.sites.get(expect.site_id) != expect:
                self.scheduler.upsert(expect)
            self.uids[site_id] = expect.site_id
            if never_checked and expect.site_id not in self.scheduler.running:
                self._spawn(self.check_now(site_id))

    def _load_enabled(self) -> list[tuple[int, SiteExpectations, bool]]:
        with self.platform.db.session() as session:
            return [(s.id, service.expectations_of(s), s.last_checked_at is None) for s in recording.enabled(session)]

    async def on_change(self, payload: dict[str, Any]) -> None:
        if payload.get("change") == "check":
            self._spawn(self.check_now(int(payload["site_id"])))
        else:
            await self.sync()

    # --- checking ----------------------------------------------------------------------------------------
    async def check_now(self, site_id: int) -> bool:
        """Check one site outside its slot (a person asked, or it is new); False if it is not checkable."""
        expect = await asyncio.to_thread(self._expectations, site_id)
        if expect is None or expect.site_id in self.scheduler.running:
            return False
        self.scheduler.running.add(expect.site_id)
        try:
            await self._check(expect)
        finally:
            self.scheduler.running.discard(expect.site_id)
        return True

    def _expectations(self, site_id: int) -> SiteExpectations | None:
        with self.platform.db.session() as session:
            site = session.get(Website, site_id)
            return service.expectations_of(site) if site is not None and site.enabled else None

    async def _scheduled(self, expect: SiteExpectations) -> None:
        await self._check(expect)

    async def _check(self, expect: SiteExpectations) -> None:
        loaded = await asyncio.to_thread(self._baseline, expect)
        # Parsing a page (up to 5 MB) is CPU work: fetch on the loop, analyse in a worker thread. Only
        # sites that hash their scripts need the checker to analyse (it fetches what the page references).
        in_thread = loaded is not None and not expect.content.fetch_subresources
        baseline = loaded.baseline if loaded is not None and not in_thread else None
        result = await self.checker.check(expect, baseline=baseline)
        if in_thread:
            result = await asyncio.to_thread(_analysed, result, loaded)
        await asyncio.to_thread(self.record, expect.site_id, result, loaded)
        self.checks += 1

    def _baseline(self, expect: SiteExpectations) -> _LoadedBaseline | None:
        """The baseline in force, parsed once and cached until it or the site's rules change."""
        with self.platform.db.session() as session:
            site = session.scalar(select(Website).where(Website.uid == expect.site_id))
            source = recording.baseline_source(session, website=site) if site is not None else None
            if source is None:
                return None
            row, sha256 = source
            key = (row.id, tuple(row.volatile_paths), expect.url, expect.content, expect.allowed_domains)
            cached = self._cache.get(expect.site_id)
            if cached is not None and cached[0] == key:
                return cached[1]
            baseline = Baseline.approve(
                self.stores.snapshots.get(sha256),
                url=expect.url,
                rules=expect.content,
                allowed_domains=expect.allowed_domains,
                volatile_paths=frozenset(row.volatile_paths),
            )
            loaded = _LoadedBaseline(row.id, row.approved_by, row.approved_at, baseline)
            self._cache[expect.site_id] = (key, loaded)
            return loaded

    def record(self, uid: str, result: CheckResult, loaded: _LoadedBaseline | None) -> None:
        """One transaction: the check, the site's state, kept pages, new alerts and alerts that ended."""
        with self.platform.db.session() as session:
            site = session.scalar(select(Website).where(Website.uid == uid))
            if site is None or not site.enabled:
                return  # deleted or paused while the check ran
            expect = service.expectations_of(site)
            previous = watch_state.from_json(site.watch_state)
            outcome = evaluate(expect, result, previous)
            recording.record_check(
                session, website=site, result=result, previous=previous, outcome=outcome, stores=self.stores
            )
            folded = alerts.fold(session, outcome.detections, keep_events=self.platform.settings.alert_events_kept)
            self._count(result, outcome.detections, [f.alert.severity for f in folded if f.created])
            for alert in alerts.open_for_keys(session, outcome.resolved):
                resolution, note = _why_resolved(alert, result, loaded)
                alerts.close_by_producer(session, alert=alert, resolution=resolution, note=note, actor=ACTOR)
            if loaded is None and result.up and result.body:
                service.adopt_first_page(session, website=site, stores=self.stores, now=result.checked_at)
            elif loaded is not None:
                _learn(session, expect, result, loaded)

    def _count(self, result: CheckResult, detections: Sequence[Detection], created: list[str]) -> None:
        metrics = self.platform.metrics
        metrics.website_checks.labels("up" if result.up else str(result.failure or "down")).inc()
        for d in detections:
            metrics.detections.labels(d.producer).inc()
        for severity in created:
            metrics.alerts_created.labels(severity).inc()

    def prune(self) -> int:
        """Drop check rows older than ``websites_keep_days``."""
        keep = timedelta(days=self.platform.settings.websites_keep_days)
        with self.platform.db.session() as session:
            return recording.prune(session, before=datetime.now(UTC) - keep)

    # --- running -----------------------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("website check failed", exc_info=task.exception())

    async def run(self, stop: asyncio.Event) -> None:
        """Schedule until ``stop``; re-read the registry every ``websites_sync_seconds``."""
        await self.sync()
        runner = asyncio.create_task(self.scheduler.run(stop))
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.platform.settings.websites_sync_seconds)
                except TimeoutError:
                    await self._safe_sync()
                    await self._prune_hourly()
        finally:
            await runner
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.checker.aclose()

    async def _prune_hourly(self) -> None:
        if time.monotonic() - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = time.monotonic()
        try:
            await asyncio.to_thread(self.prune)
        except Exception:  # retention is housekeeping: never a reason to stop checking
            log.exception("pruning old website checks failed")

    async def _safe_sync(self) -> None:
        try:
            await self.sync()
        except Exception:  # a failed re-read must not stop the watch; the next one tries again
            log.exception("re-reading the website registry failed")


def _analysed(result: CheckResult, loaded: _LoadedBaseline | None) -> CheckResult:
    """The checker's verdict, computed here (same rules: only answered pages, exact bytes need no parse)."""
    if loaded is None or not result.up:
        return result
    if result.body_sha256 == loaded.baseline.html_sha256:
        return replace(result, verdict=UNCHANGED)
    return replace(result, verdict=assess(loaded.baseline, result.body))


def _why_resolved(alert: Alert, result: CheckResult, loaded: _LoadedBaseline | None) -> tuple[Resolution, str]:
    at = result.checked_at.strftime("%Y-%m-%d %H:%M:%SZ")
    if alert.rule_id == "website.down":
        return Resolution.TRUE_POSITIVE, f"Resolved automatically: the site answered again at {at}."
    if alert.rule_id in _CONTENT_RULES and loaded is not None and loaded.approved_at > alert.first_seen:
        who = loaded.approved_by
        return Resolution.BENIGN_POSITIVE, f"Resolved automatically: {who} approved the changed page as the baseline."
    return Resolution.TRUE_POSITIVE, f"Resolved automatically: no longer observed at {at}."


def _learn(session: Session, expect: SiteExpectations, result: CheckResult, loaded: _LoadedBaseline) -> None:
    """Learn dynamic regions from pages judged unchanged (score 0) whose bytes still differ from the baseline.

    A page with findings is not learned from, even below the defacement line: it is a change for a person to
    review, and learning would hide it.
    """
    baseline = loaded.baseline
    unchanged = result.verdict is not None and result.verdict.score == 0.0
    if not (expect.content.learn_volatile and unchanged and result.body_sha256 != baseline.html_sha256):
        return
    learned = learn_bounded(baseline, result.body)
    if learned != baseline.volatile_paths:
        recording.learn(session, baseline_id=loaded.id, paths=learned)


async def start_websites(platform: Platform) -> tuple[Watch, asyncio.Event, asyncio.Task[None]] | None:
    """Start the watch when ``MAMORI_WEBSITES_ENABLED`` (the default); returns what stopping needs."""
    if not platform.settings.websites_enabled:
        return None
    watch = Watch(platform)
    await platform.bus.subscribe(subjects.WEBSITES_CHANGED, group="websites", handler=watch.on_change)
    stop = asyncio.Event()
    return watch, stop, asyncio.create_task(watch.run(stop))
