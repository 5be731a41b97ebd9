"""The demo's loopback web farm serves each ministry's pages and registers them; overrides deface one."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from mamori.cli.demo_sites import DEFACED_PAGE, DemoFarm, ensure_sites
from mamori.platform import Platform
from mamori.websites.checker import Checker
from mamori.websites.models import Website
from mamori.websites.results import CheckLimits
from mamori.workers.websites import Watch

MINISTRIES = {"mof": "Ministry of Finance", "mofa": "Ministry of Foreign Affairs"}


def test_demo_farm_serves_registers_and_defaces(platform: Platform) -> None:
    async def scenario() -> None:
        farm = DemoFarm(MINISTRIES)
        await farm.start(0)
        async with httpx.AsyncClient() as client:
            page = await client.get(f"{farm.base_url}/mof/www/")
            assert page.status_code == 200 and "Ministry of Finance" in page.text
            assert (await client.get(f"{farm.base_url}/nope/")).status_code == 404
        await asyncio.to_thread(ensure_sites, platform, farm.base_url, MINISTRIES)
        await asyncio.to_thread(ensure_sites, platform, farm.base_url, MINISTRIES)  # idempotent
        with platform.db.session() as s:
            sites = {w.name: w.id for w in s.scalars(select(Website))}
        assert len(sites) == 4
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))
        target = sites["Ministry of Foreign Affairs homepage"]
        assert await watch.check_now(target)
        farm.overrides["/mofa/www/"] = (200, DEFACED_PAGE)
        assert await watch.check_now(target)
        await watch.checker.aclose()
        assert farm.server is not None
        farm.server.close()
        await farm.server.wait_closed()

    asyncio.run(scenario())
    with platform.db.session() as s:
        integrity = {w.name: w.integrity for w in s.scalars(select(Website))}
    assert integrity["Ministry of Foreign Affairs homepage"] == "defaced"
