"""End to end on loopback: a real HTTP server, the real checker and the watch worker, alerts in the database.

down → alert after N failures → up → alert closed; defaced → defacement alert with an evidence snapshot →
restored → closed; a legitimate redesign approved by a person → its alert closes as benign, no new alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mamori.accounts import service as accounts
from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.alerts.models import Alert, AlertComment
from mamori.audit.models import AuditEntry
from mamori.platform import Platform
from mamori.websites import service
from mamori.websites.checker import Checker
from mamori.websites.models import Website, WebsiteCheck, WebsiteSnapshot
from mamori.websites.results import CheckLimits
from mamori.websites.schemas import ApprovalDecisionIn, ApproveIn, WebsiteIn
from mamori.workers.websites import Watch

from .farm import SiteFarm
from .pages import ministry_page

DEFACED = (
    "<html><head><title>Hacked by Cyber Ghost</title></head><body>"
    "<h1>Hacked by Cyber Ghost</h1><p>Your security is weak</p></body></html>"
)
# A maintenance notice that is only an image: no text left, which is what a wiped page looks like too.
MAINTENANCE = (
    "<html><head><title>Ministry of Interior - Official website</title></head>"
    "<body><img src='/static/maintenance.png' alt=''></body></html>"
)
REDESIGN = (
    "<!DOCTYPE html><html><head><title>Ministry of Interior</title></head><body><div class='hero'>"
    "<h2>Serving citizens since 1873</h2><p>Find forms, permits and contact points for every prefecture.</p>"
    "</div><div class='cards'><div>Identity cards</div><div>Residence</div><div>Elections</div></div></body></html>"
)


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def principal(platform: Platform, username: str) -> Principal:
    with platform.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.principal_for(s, user)


def register(platform: Platform, url: str) -> int:
    with platform.db.session() as s:
        site = service.create(
            s,
            principal=None,
            data=WebsiteIn(
                org_id="mof", name="Interior", url=url, allow_private=True, failures_before_alert=2, timeout_seconds=3
            ),
        )
        return site.id


def alerts_of(platform: Platform) -> list[tuple[str, str, str | None]]:
    with platform.db.session() as s:
        rows = s.scalars(select(Alert).where(Alert.producer == "website").order_by(Alert.id))
        return [(a.rule_id, a.status, a.resolution) for a in rows]


def test_down_defaced_restored_and_approved(platform: Platform, farm: SiteFarm) -> None:
    farm.set("/moi/", ministry_page())
    site_id = register(platform, farm.url("/moi/"))

    async def scenario() -> None:
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))

        async def check() -> None:
            assert await watch.check_now(site_id)

        await check()  # first page: adopted as the baseline, for review
        assert alerts_of(platform) == []

        farm.set("/moi/", "Service Unavailable", status=503)
        await check()
        assert alerts_of(platform) == []  # one failure is not an outage
        await check()
        assert alerts_of(platform) == [("website.down", "new", None)]
        await check()  # still down: the same alert, not a second one
        assert len(alerts_of(platform)) == 1

        farm.set("/moi/", ministry_page(clock="2026-11-23 11:00", visitors=1300))
        await check()
        assert alerts_of(platform) == [("website.down", "closed", "true_positive")]

        farm.set("/moi/", DEFACED)
        await check()
        assert alerts_of(platform)[-1] == ("website.defaced", "new", None)
        farm.set("/moi/", ministry_page())
        await check()
        assert alerts_of(platform)[-1] == ("website.defaced", "closed", "true_positive")

        farm.set("/moi/", REDESIGN)  # an editor's redesign: changed, but not an attack
        await check()
        assert len(alerts_of(platform)) == 2

        farm.set("/moi/", MAINTENANCE)  # legitimate, but it looks like a replaced page: flagged
        await check()
        assert alerts_of(platform)[-1] == ("website.defaced", "new", None)
        with platform.db.session() as s:  # flagged as defaced: the officer confirms, and it waits ...
            asked = service.approve(
                s,
                principal=principal(platform, "org_officer-mof"),
                site_id=site_id,
                data=ApproveIn(reason="planned maintenance page", confirm_changed=True),
                stores=watch.stores,
                now=datetime.now(UTC),
            )
            approval_id = asked.id
        await check()
        assert alerts_of(platform)[-1] == ("website.defaced", "new", None)  # still compared with the good page
        with platform.db.session() as s:  # ... for a second person of the national centre
            service.decide(
                s,
                principal=principal(platform, "national_analyst-ncc"),
                site_id=site_id,
                approval_id=approval_id,
                data=ApprovalDecisionIn(reason="maintenance announced to the centre"),
                confirm=True,
                stores=watch.stores,
                now=datetime.now(UTC),
            )
        await check()
        await check()
        assert len(alerts_of(platform)) == 3  # the approved page raises nothing new
        assert alerts_of(platform)[-1] == ("website.defaced", "closed", "benign_positive")
        await watch.checker.aclose()

    asyncio.run(scenario())
    with platform.db.session() as s:
        site = s.get(Website, site_id)
        assert site is not None and site.availability == "up" and site.integrity == "ok"
        evidence = s.scalars(select(WebsiteSnapshot).where(WebsiteSnapshot.kind == "evidence")).all()
        assert len(evidence) == 2  # the defaced page and the (not yet approved) maintenance page
        kinds = [k.kind for k in s.scalars(select(WebsiteSnapshot).order_by(WebsiteSnapshot.id))]
        assert "suspicious" in kinds  # the redesign: changed below the line, kept once for review
        check = s.scalar(select(WebsiteCheck).where(WebsiteCheck.snapshot_id == evidence[0].id))
        assert check is not None and check.defaced and any("Hacked by" in r for r in check.reasons)
        comments = [c.body for c in s.scalars(select(AlertComment))]
        assert any("answered again" in c for c in comments) and any("org_officer-mof approved" in c for c in comments)
        actions = {a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "website"))}
        assert {"website.create", "website.approve"} <= actions
    watch_store = Watch(platform).stores
    assert b"Hacked by Cyber Ghost" in watch_store.snapshots.get(evidence[0].html_sha256)


def test_loopback_is_refused_unless_the_site_allows_private_addresses(platform: Platform, farm: SiteFarm) -> None:
    farm.set("/", ministry_page())
    with platform.db.session() as s:
        site_id = service.create(s, principal=None, data=WebsiteIn(org_id="mof", name="x", url=farm.url("/"))).id

    async def scenario() -> None:
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))
        assert await watch.check_now(site_id)
        await watch.checker.aclose()

    asyncio.run(scenario())
    with platform.db.session() as s:
        check = s.scalar(select(WebsiteCheck).where(WebsiteCheck.website_id == site_id))
        assert check is not None and not check.up and check.failure == "refused" and "loopback" in (check.error or "")
        site = s.get(Website, site_id)
        assert site is not None and site.latest_sha256 is None  # nothing fetched, nothing kept
    assert farm.hits == []


def test_the_platform_process_runs_the_watch(platform: Platform, farm: SiteFarm) -> None:
    """MAMORI_WEBSITES_ENABLED: a site registered through the API is checked by the app's own watch."""
    import time

    from fastapi.testclient import TestClient

    from mamori.asgi import create_app
    from tests.conftest import login

    farm.set("/", ministry_page())
    platform.settings = platform.settings.model_copy(update={"websites_enabled": True})
    with TestClient(create_app(platform)) as client:
        login(client, "national_analyst-ncc")
        data = {"org_id": "mof", "name": "Finance", "url": farm.url("/"), "allow_private": True}
        site_id = client.post("/api/v1/websites", json=data).json()["id"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not client.get(f"/api/v1/websites/{site_id}/checks").json()["items"]:
            time.sleep(0.1)
        checks = client.get(f"/api/v1/websites/{site_id}/checks").json()
        assert checks["items"] and checks["items"][-1]["up"] and checks["uptime_24h"] == 100.0
        assert client.get(f"/api/v1/websites/{site_id}").json()["baseline"]["approved_by"] == "system"


def test_sync_schedules_exactly_the_enabled_sites(platform: Platform) -> None:
    from mamori.websites.schemas import WebsiteUpdate

    with platform.db.session() as s:
        a = service.create(s, principal=None, data=WebsiteIn(org_id="mof", name="a", url="https://a.example/")).id
        b = service.create(s, principal=None, data=WebsiteIn(org_id="mofa", name="b", url="https://b.example/")).id
        for site in s.scalars(select(Website)):  # as if checked already: no immediate first check
            site.last_checked_at = datetime.now(UTC)

    async def scenario() -> tuple[set[int], set[int], int]:
        watch = Watch(platform)
        await watch.sync()
        first = set(watch.uids)
        with platform.db.session() as s:
            admin = principal(platform, "admin-ncc")
            service.update(s, principal=admin, site_id=b, data=WebsiteUpdate(enabled=False, reason="retired"))
            service.update(s, principal=admin, site_id=a, data=WebsiteUpdate(interval_seconds=60))
        await watch.sync()
        interval = watch.scheduler.sites[watch.uids[a]].interval_seconds
        await watch.checker.aclose()
        return first, set(watch.uids), interval

    first, after, interval = asyncio.run(scenario())
    assert first == {a, b} and after == {a} and interval == 60


def test_learning_never_makes_most_of_a_page_volatile() -> None:
    from mamori.websites.integrity import Baseline
    from mamori.websites.volatile import learn_bounded

    baseline = Baseline.approve(ministry_page(), url="https://moi.example/")
    from .pages import NEWS

    headlines = [(f"Headline {i} of today", body) for i, (_, body) in enumerate(NEWS)]
    learned = learn_bounded(baseline, ministry_page(news=headlines))
    assert learned == {">html>body>main#content>section.latest-news>ul>li.news-item>h3"}  # 3 of 18 lines
    rewritten = [(f"Headline {i}", f"Body {i}") for i in range(3)]  # headlines and bodies: 6 of 18 lines
    assert learn_bounded(baseline, ministry_page(news=rewritten)) == baseline.volatile_paths
    assert learn_bounded(baseline, REDESIGN) == baseline.volatile_paths  # a whole new page teaches nothing


def test_old_checks_are_pruned_and_checks_are_counted(platform: Platform, farm: SiteFarm) -> None:
    from datetime import timedelta

    farm.set("/", ministry_page())
    site_id = register(platform, farm.url("/"))
    with platform.db.session() as s:
        old = datetime.now(UTC) - timedelta(days=platform.settings.websites_keep_days + 1)
        s.add(WebsiteCheck(website_id=site_id, org_id="mof", checked_at=old, up=False, availability="down"))

    async def scenario() -> Watch:
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))
        assert await watch.check_now(site_id)
        await watch.checker.aclose()
        return watch

    watch = asyncio.run(scenario())
    assert watch.prune() == 1
    with platform.db.session() as s:
        assert len(s.scalars(select(WebsiteCheck)).all()) == 1
    assert b'mamori_website_checks_total{outcome="up"} 1.0' in platform.metrics.render()
