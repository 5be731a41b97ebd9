"""The watch loop of one process: scheduler -> checker -> detections -> publish, with evidence snapshots.

This is the in-memory composition the embedded mode can run as is; the platform keeps ``Watched`` (site,
baseline, state) in its tables instead of a dict and publishes through its outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from mamori.core.errors import NotFound
from mamori.websites.checker import Checker
from mamori.websites.detections import WatchOutcome, WatchState, evaluate
from mamori.websites.enums import SnapshotStatus
from mamori.websites.integrity import Baseline
from mamori.websites.results import CheckResult
from mamori.websites.scheduler import Scheduler
from mamori.websites.schemas import SiteExpectations
from mamori.websites.snapshots import SnapshotStore
from mamori.websites.volatile import learn_volatile

Publish = Callable[[CheckResult, WatchOutcome], Awaitable[None]]


LEARN_FROM = 3  # clean fetches after an approval from which the site's dynamic regions are learned


@dataclass
class Watched:
    site: SiteExpectations
    baseline: Baseline | None = None
    state: WatchState = field(default_factory=WatchState)
    approved_html: bytes = b""
    learning: list[bytes] = field(default_factory=list)  # clean fetches collected since the approval


class WebsiteWatch:
    def __init__(
        self,
        checker: Checker,
        publish: Publish,
        *,
        snapshots: SnapshotStore | None = None,
        concurrency: int = 64,
    ) -> None:
        self.checker = checker
        self.publish = publish
        self.snapshots = snapshots
        self.sites: dict[str, Watched] = {}
        self.scheduler = Scheduler(self._scheduled, concurrency=concurrency)

    def watch(self, site: SiteExpectations, *, baseline: Baseline | None = None) -> None:
        """Start (or update) watching ``site``; its state survives an update of its expectations."""
        known = self.sites.get(site.site_id)
        state = known.state if known else WatchState()
        self.sites[site.site_id] = Watched(site, baseline or (known.baseline if known else None), state)
        self.scheduler.upsert(site)

    def unwatch(self, site_id: str) -> None:
        self.sites.pop(site_id, None)
        self.scheduler.remove(site_id)

    def approve(self, site_id: str, html: bytes, *, resources: dict[str, bytes] | None = None) -> Baseline:
        """Make ``html`` the site's baseline, and keep it as a known-good snapshot."""
        watched = self._get(site_id)
        site = watched.site
        watched.baseline = Baseline.approve(
            html, url=site.url, rules=site.content, allowed_domains=site.allowed_domains
        )
        watched.approved_html, watched.learning = html, []
        if self.snapshots is not None:
            self.snapshots.save(
                site_id=site_id,
                url=site.url,
                html=html,
                resources=(resources or {}).items(),
                taken_at=datetime.now(UTC),
                status=SnapshotStatus.KNOWN_GOOD,
            )
        return watched.baseline

    async def check_now(self, site_id: str) -> WatchOutcome:
        watched = self._get(site_id)
        result = await self.checker.check(watched.site, baseline=watched.baseline)
        outcome = evaluate(watched.site, result, watched.state)
        watched.state = outcome.state
        self._learn(watched, result)
        if self.snapshots is not None and result.verdict is not None and result.verdict.defaced:
            await asyncio.to_thread(self._keep_evidence, result)
        await self.publish(result, outcome)
        return outcome

    async def run(self, stop: asyncio.Event) -> None:
        await self.scheduler.run(stop)

    async def _scheduled(self, site: SiteExpectations) -> None:
        if site.site_id in self.sites:
            await self.check_now(site.site_id)

    def _learn(self, watched: Watched, result: CheckResult) -> None:
        """After an approval, learn the page's dynamic regions from its next few clean fetches, then
        re-read the approved page with them (see :mod:`mamori.websites.volatile`)."""
        baseline = watched.baseline
        if baseline is None or not watched.site.content.learn_volatile or len(watched.learning) >= LEARN_FROM:
            return
        if result.verdict is None or result.verdict.defaced or result.body_sha256 == baseline.html_sha256:
            return
        watched.learning.append(result.body)
        if len(watched.learning) == LEARN_FROM:
            paths = learn_volatile(baseline, watched.learning)
            watched.baseline = replace(
                Baseline.approve(
                    watched.approved_html,
                    url=baseline.url,
                    rules=baseline.rules,
                    allowed_domains=baseline.allowed_domains,
                    volatile_paths=paths,
                ),
                subresources=baseline.subresources,
            )

    def _keep_evidence(self, result: CheckResult) -> None:
        """The page as the attacker left it, marked suspicious (blobs are shared, so repeats cost nothing)."""
        assert self.snapshots is not None
        self.snapshots.save(
            site_id=result.site_id,
            url=result.final_url or result.url,
            html=result.body,
            resources=result.resources,
            taken_at=result.checked_at,
            status=SnapshotStatus.SUSPICIOUS,
        )

    def _get(self, site_id: str) -> Watched:
        try:
            return self.sites[site_id]
        except KeyError:
            raise NotFound("site is not watched", where=site_id) from None
