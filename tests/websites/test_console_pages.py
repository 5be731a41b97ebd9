"""The console's website pages through the real app: the wall, the detail with its diff, forms with CSRF."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.platform import Platform
from mamori.websites import service
from mamori.websites.checker import Checker
from mamori.websites.models import WebsiteApproval, WebsiteBaseline
from mamori.websites.results import CheckLimits
from mamori.websites.schemas import WebsiteIn
from mamori.workers.websites import Watch
from tests.conftest import login

from .farm import SiteFarm
from .pages import ministry_page

HOSTILE = (
    "<html><head><title>Hacked by Cyber Ghost</title></head><body><h1>Hacked by Cyber Ghost</h1>"
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=1"><p>&lt;b&gt;owned&lt;/b&gt;</p></body></html>'
)


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def defaced_site(platform: Platform, farm: SiteFarm) -> int:
    farm.set("/", ministry_page())
    with platform.db.session() as s:
        site_id = service.create(
            s,
            principal=None,
            data=WebsiteIn(org_id="mof", name="Finance <b>portal</b>", url=farm.url("/"), allow_private=True),
        ).id

    async def checks() -> None:
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))
        await watch.check_now(site_id)
        farm.set("/", HOSTILE)
        await watch.check_now(site_id)
        await watch.checker.aclose()

    asyncio.run(checks())
    return site_id


def test_wall_and_detail_show_a_defaced_site_escaped(client: TestClient, platform: Platform, farm: SiteFarm) -> None:
    site_id = defaced_site(platform, farm)
    login(client, "org_officer-mof")
    wall = client.get("/websites")
    assert wall.status_code == 200 and 'http-equiv="refresh"' in wall.text
    assert "site-defaced" in wall.text and "Finance &lt;b&gt;portal&lt;/b&gt;" in wall.text
    detail = client.get(f"/websites/{site_id}")
    assert detail.status_code == 200
    html = detail.text
    assert "Hacked by Cyber Ghost" in html and "DEFACED" in html
    assert "<script>window.__xss" not in html and "<img" not in html
    assert "&lt;b&gt;owned&lt;/b&gt;" in html  # the page's text, escaped: never markup
    assert 'sandbox=""' in html and ("diff-changed" in html or "diff-added" in html)
    source = client.get(f"/websites/{site_id}/source/current")
    assert source.headers["content-type"].startswith("text/plain")
    assert source.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert source.text == HOSTILE
    evidence = client.get(f"/api/v1/websites/{site_id}").json()["snapshots"][0]
    assert evidence["kind"] == "evidence"
    kept = client.get(f"/websites/{site_id}/source/{evidence['html_sha256']}")
    assert kept.text == HOSTILE and kept.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert client.get(f"/websites/{site_id}/source/{'f' * 64}").status_code == 404


def test_forms_need_csrf_and_approve_records_who(client: TestClient, platform: Platform, farm: SiteFarm) -> None:
    site_id = defaced_site(platform, farm)
    csrf = login(client, "org_officer-mof")
    del client.headers["X-CSRF-Token"]
    form = {"reason": "x", "confirm_changed": "yes"}
    assert client.post(f"/websites/{site_id}/approve", data=form, follow_redirects=False).status_code == 403
    done = client.post(f"/websites/{site_id}/approve", data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    with platform.db.session() as s:
        newest = s.scalars(select(WebsiteApproval).order_by(WebsiteApproval.id.desc())).first()
        assert newest is not None and newest.requested_by == "org_officer-mof" and newest.status == "pending"
    created = client.post(
        "/websites",
        data={"org_id": "mof", "name": "New", "url": "https://new.mof.example/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"].startswith("/websites/")


def baselines(platform: Platform) -> list[int]:
    with platform.db.session() as s:
        return list(s.scalars(select(WebsiteBaseline.snapshot_id).order_by(WebsiteBaseline.id)))


def test_console_approval_of_a_defaced_page_asks_why_confirms_and_waits_for_a_second_person(
    client: TestClient, platform: Platform, farm: SiteFarm
) -> None:
    site_id = defaced_site(platform, farm)
    csrf = login(client, "org_officer-mof")
    page = client.get(f"/websites/{site_id}").text
    assert 'name="confirm_changed"' in page and "The current verdict is DEFACED" in page
    assert 'id="approve-reason"' in page and "required" in page
    before = baselines(platform)
    for form in ({}, {"reason": "  "}, {"reason": "new design"}, {"confirm_changed": "yes"}):
        refused = client.post(f"/websites/{site_id}/approve", data={**form, "csrf_token": csrf})
        assert refused.status_code == 422, form
        assert "confirmation" in refused.text or "reason is required" in refused.text
    assert baselines(platform) == before
    asked = client.post(
        f"/websites/{site_id}/approve", data={"reason": "new design", "confirm_changed": "yes", "csrf_token": csrf}
    )
    assert asked.status_code == 200 and 'id="pending-approval"' in asked.text
    assert 'id="btn-confirm-approval"' not in asked.text  # the requester gets no confirm button
    with platform.db.session() as s:
        pending = s.scalars(select(WebsiteApproval).where(WebsiteApproval.status == "pending")).one()
    decision = f"/websites/{site_id}/approvals/{pending.id}/decision"
    assert client.post(decision, data={"decision": "confirm", "reason": "me", "csrf_token": csrf}).status_code == 403
    assert baselines(platform) == before

    csrf = login(client, "national_analyst-ncc")
    page = client.get(f"/websites/{site_id}").text
    assert 'id="btn-confirm-approval"' in page and "new design" in page
    assert client.post(decision, data={"decision": "confirm", "csrf_token": csrf}).status_code == 422
    assert client.post(decision, data={"decision": "maybe", "reason": "x", "csrf_token": csrf}).status_code == 422
    assert baselines(platform) == before
    done = client.post(decision, data={"decision": "confirm", "reason": "checked with mof", "csrf_token": csrf})
    assert done.status_code == 200 and "confirmed by" in done.text
    assert baselines(platform) == [*before, pending.snapshot_id]


def test_other_ministry_sees_nothing(client: TestClient, platform: Platform, farm: SiteFarm) -> None:
    site_id = defaced_site(platform, farm)
    login(client, "org_officer-mofa")
    assert "Finance" not in client.get("/websites").text
    assert client.get(f"/websites/{site_id}").status_code == 404
    assert client.get(f"/websites/{site_id}/source/current").status_code == 404
