"""The website watch in the browser, against the real server process and its own running watch.

Sites live on a loopback farm in this test process; the server's watch checks them (new sites at once,
"Check now" through the outbox), so these tests also prove the scheduler runs inside the platform process.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from mamori.alerts.models import Alert
from mamori.websites import service
from mamori.websites.models import Website
from mamori.websites.schemas import WebsiteIn
from tests.web.conftest import Server, free_port, login_as, shot
from tests.web.test_console import assert_inert
from tests.websites.farm import SiteFarm
from tests.websites.pages import ministry_page

HOSTILE = (
    "<html><head><title>Hacked by Cyber Ghost</title></head><body><h1>Hacked by Cyber Ghost</h1>"
    "<script>window.__xss=1;alert('xss')</script><img src=x onerror=\"window.__xss=1;alert(1)\">"
    "<p>Your security is weak</p></body></html>"
)


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def register(server: Server, name: str, url: str) -> int:
    with server.db.session() as s:
        data = WebsiteIn(
            org_id="mof", name=name, url=url, allow_private=True, failures_before_alert=1, timeout_seconds=3
        )
        return service.create(s, principal=None, data=data).id


def wait_for(server: Server, site_id: int, ready: Callable[[Website], bool], timeout: float = 20) -> Website:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with server.db.session() as s:
            site = s.get(Website, site_id)
            if site is not None and ready(site):
                return site
        time.sleep(0.2)
    pytest.fail(f"website {site_id} never reached the expected state")


def test_status_wall_and_a_defaced_page_that_never_runs(page: Any, server: Server, farm: SiteFarm) -> None:
    farm.set("/", ministry_page())
    site_id = register(server, "Finance portal", farm.url("/"))
    down_id = register(server, "Finance intranet", f"http://127.0.0.1:{free_port()}/")  # nothing listens there
    wait_for(server, site_id, lambda s: s.integrity == "ok" or s.last_checked_at is not None)
    wait_for(server, down_id, lambda s: s.availability == "down")

    farm.set("/", HOSTILE)
    login_as(page, server, "org_officer-mof")
    page.goto(server.url + f"/websites/{site_id}")
    page.click("#btn-check")  # a real form post with CSRF → outbox → the server's watch
    wait_for(server, site_id, lambda s: s.integrity == "defaced")
    with server.db.session() as s:
        rules = [a.rule_id for a in s.scalars(select(Alert).where(Alert.producer == "website"))]
    assert "website.defaced" in rules and "website.down" in rules

    page.goto(server.url + "/websites")
    assert page.locator(".site-tile.site-defaced").count() >= 1
    assert page.locator(".site-tile.site-down").count() >= 1
    assert_inert(page)
    shot(page, "websites-wall")

    page.goto(server.url + f"/websites/{site_id}")
    page.wait_for_load_state("networkidle")
    assert "Hacked by Cyber Ghost" in page.inner_text("#diff")
    assert page.inner_text("#site-state") == "DEFACED"
    page.click("#view-page summary")
    frame = page.frame_locator("iframe.page-source")
    assert "window.__xss=1" in frame.locator("body").inner_text()  # the source, shown as text
    page.wait_for_timeout(500)
    assert_inert(page)
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    shot(page, "website-defaced-diff")


def test_wall_filters_by_organisation(page: Any, server: Server) -> None:
    with server.db.session() as s:
        data = WebsiteIn(org_id="mofa", name="Foreign affairs", url="https://www.mofa.example/", enabled=False)
        service.create(s, principal=None, data=data)
    login_as(page, server, "national_analyst-ncc")
    page.goto(server.url + "/websites")
    page.select_option("#org-filter", "mofa")
    page.click(".filters button[type=submit]")
    assert "org=mofa" in page.url
    names = page.locator(".site-tile .site-name").all_inner_texts()
    assert names == ["Foreign affairs"]
    shot(page, "websites-wall-filtered")


def test_approving_a_defaced_page_takes_a_confirmation_and_a_second_person(
    page: Any, server: Server, farm: SiteFarm
) -> None:
    good = ministry_page()
    farm.set("/", good)
    site_id = register(server, "Finance news", farm.url("/"))
    wait_for(server, site_id, lambda s: s.last_checked_at is not None)
    farm.set("/", HOSTILE)
    login_as(page, server, "org_officer-mof")
    page.goto(server.url + f"/websites/{site_id}")
    page.click("#btn-check")
    wait_for(server, site_id, lambda s: s.integrity == "defaced")
    page.goto(server.url + f"/websites/{site_id}")
    assert "DEFACED" in page.inner_text("#approve-confirm-label")  # the confirmation names the verdict

    # A reason but no confirmation: the form does not go (and the server would refuse it, see the app tests).
    page.fill("#approve-reason", "new campaign page")
    page.click("#btn-approve")
    assert page.locator("#pending-approval").count() == 0
    assert page.evaluate("document.querySelector('#approve-confirm').validity.valueMissing") is True

    page.check("#approve-confirm")
    page.click("#btn-approve")
    page.wait_for_selector("#pending-approval")
    assert page.inner_text("#pending-reason") == "new campaign page"
    assert page.locator("#btn-confirm-approval").count() == 0  # never the requester
    bundle = page.request.get(server.url + f"/api/v1/websites/{site_id}/restore-bundle")
    assert bundle.ok and bundle_file(bundle.body(), "index.html") == good.encode()  # still the known-good copy
    shot(page, "website-approval-pending")

    page.context.clear_cookies()
    login_as(page, server, "national_analyst-ncc")
    page.goto(server.url + f"/websites/{site_id}")
    page.fill("#decide-reason", "confirmed with the ministry by phone")
    page.click("#btn-confirm-approval")
    page.wait_for_selector("#baseline:has-text('confirmed by')")
    assert page.locator("#pending-approval").count() == 0
    assert "national_analyst-ncc" in page.inner_text("#baseline")
    bundle = page.request.get(server.url + f"/api/v1/websites/{site_id}/restore-bundle")
    approval = json.loads(bundle_file(bundle.body(), "approval.json"))
    assert approval["requested_by"] == "org_officer-mof" and approval["confirmed_by"] == "national_analyst-ncc"
    assert approval["reason"] == "new campaign page"
    assert_inert(page)
    shot(page, "website-approval-confirmed")


def bundle_file(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read()
