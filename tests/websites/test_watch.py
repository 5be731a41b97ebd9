"""End to end on loopback: scheduler -> checker -> detections -> publish, with snapshots and a restore."""

from __future__ import annotations

import asyncio
import io
import tarfile
from pathlib import Path

from mamori.websites.checker import Checker
from mamori.websites.detections import WatchOutcome
from mamori.websites.enums import SnapshotStatus
from mamori.websites.results import CheckLimits, CheckResult
from mamori.websites.schemas import SiteExpectations
from mamori.websites.snapshots import SnapshotStore
from mamori.websites.watch import WebsiteWatch

from .farm import SiteFarm
from .pages import NEWS, ministry_page

DEFACED = "<html><head><title>Hacked by Z</title></head><body><h1>Hacked by Z</h1></body></html>"


def test_watch_detects_defacement_and_outage_then_resolves(tmp_path: Path) -> None:
    published: list[tuple[CheckResult, WatchOutcome]] = []
    store = SnapshotStore(tmp_path)

    async def publish(result: CheckResult, outcome: WatchOutcome) -> None:
        published.append((result, outcome))

    with SiteFarm() as farm:
        farm.set("/", ministry_page())
        site = SiteExpectations(
            site_id="moi", org="interior", url=farm.url("/"), allow_private=True, failures_before_alert=2
        ).model_copy(update={"interval_seconds": 0.15})  # model_copy does not validate: below the schema's minimum

        async def scenario() -> None:
            async with Checker(limits=CheckLimits(record_dns=False)) as checker:
                watch = WebsiteWatch(checker, publish, snapshots=store)
                watch.watch(site)
                watch.approve("moi", ministry_page().encode())
                stop = asyncio.Event()
                runner = asyncio.create_task(watch.run(stop))
                for body, kw, seconds in [
                    (ministry_page(), {}, 0.4),
                    (DEFACED, {}, 0.5),
                    ("gone", {"status": 503}, 0.6),
                    (ministry_page(), {}, 0.5),
                ]:
                    farm.set("/", body, **kw)
                    await asyncio.sleep(seconds)
                stop.set()
                await runner

        asyncio.run(scenario())

    rules = [d.rule_id for _, o in published for d in o.detections]
    assert "website.defaced" in rules and "website.down" in rules
    defaced_key = next(d.key for _, o in published for d in o.detections if d.rule_id == "website.defaced")
    down_key = next(d.key for _, o in published for d in o.detections if d.rule_id == "website.down")
    resolved = [k for _, o in published for k in o.resolved]
    assert defaced_key in resolved and down_key in resolved
    assert len({d.key for _, o in published for d in o.detections if d.rule_id == "website.defaced"}) == 1

    statuses = {s.status for s in store.list_("moi")}
    assert statuses == {SnapshotStatus.KNOWN_GOOD, SnapshotStatus.SUSPICIOUS}
    good = store.last_known_good("moi")
    assert good is not None
    with tarfile.open(fileobj=io.BytesIO(store.restore_bundle(good)), mode="r:gz") as tar:
        index = tar.extractfile("index.html")
        assert index is not None and index.read() == ministry_page().encode()


def test_watch_learns_dynamic_regions_after_approval() -> None:
    async def publish(result: CheckResult, outcome: WatchOutcome) -> None:
        return None

    with SiteFarm() as farm:
        site = SiteExpectations(site_id="moi", org="interior", url=farm.url("/"), allow_private=True)

        async def scenario() -> WebsiteWatch:
            async with Checker(limits=CheckLimits(record_dns=False)) as checker:
                watch = WebsiteWatch(checker, publish)
                watch.watch(site)
                watch.approve("moi", ministry_page().encode())
                for n in range(3):  # the news box changes on every fetch
                    farm.set("/", ministry_page(news=[(f"Story {n}", f"Body {n}"), *NEWS[1:]]))
                    await watch.check_now("moi")
                return watch

        watch = asyncio.run(scenario())
    baseline = watch.sites["moi"].baseline
    assert baseline is not None and baseline.volatile_paths
    assert all("news" in p for p in baseline.volatile_paths)
