"""The response console in Chromium: the board, the incident page and its tabs, the request/approval flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.accounts.service import principal_for
from mamori.cases import roster
from mamori.cases.schemas import ProfileIn
from tests.web.conftest import Server, login_as, shot

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__xss=1">Defaced <script>window.__xss=1</script>'


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    page.set_default_timeout(90_000)  # CI machines with 2 busy cores are slow to render


def open_incident(page: Any, server: Server, title: str, org: str = "mofa") -> int:
    page.goto(server.url + "/incidents")
    page.select_option("#new-incident select[name=org_id]", org)
    page.fill("#new-incident input[name=title]", title)
    page.select_option("#new-incident select[name=category]", "defacement")
    page.select_option("#new-incident select[name=severity]", "high")
    page.click("#new-incident button[type=submit]")
    page.wait_for_url(f"{server.url}/incidents/*")
    return int(page.url.rsplit("/", 1)[1])


def put_on_roster(server: Server, username: str) -> None:
    with server.db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin-ncc"))
        user = s.scalar(select(User).where(User.username == username))
        assert admin is not None and user is not None
        data = ProfileIn(user_id=user.id, home_org_id="mof", skills=["web", "forensics"])
        roster.upsert(s, principal=principal_for(s, admin), data=data)


def test_board_and_incident_page(page: Any, server: Server, tmp_path: Path) -> None:
    login_as(page, server, "org_officer-mofa")
    incident_id = open_incident(page, server, HOSTILE)
    assert "Defaced" in page.inner_text("h1"), page.inner_text("main")
    assert page.evaluate("window.__xss") is None
    assert page.inner_text("#phase .current") == "triage"
    page.select_option("#next-phase", "containment")
    page.fill("#transition input[name=note]", "maintenance page up")
    page.click("#btn-move")
    assert page.inner_text("#phase .current") == "containment"
    shot(page, "incident-overview")

    page.click("#tab-tasks")
    assert page.locator("#tasks tbody tr").count() == 9  # the defacement playbook
    page.locator("#tasks tbody tr").first.locator("input[name=notes]").fill("compared with snapshot")
    page.locator("#tasks tbody tr").first.locator("button[value=complete]").click()
    assert page.locator("#tasks tr.task-done").count() == 1
    shot(page, "incident-tasks")

    page.click("#tab-evidence")
    log = tmp_path / "access.log"
    log.write_bytes(b"GET /index.html 200\n" * 100)
    page.set_input_files("#upload input[type=file]", str(log))
    page.click("#upload button[type=submit]")
    assert "access.log" in page.inner_text("#evidence")
    shot(page, "incident-evidence")

    page.click("#tab-timeline")
    page.fill("#add-entry textarea[name=text]", "Staff reported the page at 03:10")
    page.fill("#add-entry input[name=event_at]", "2026-11-01T03:10")
    page.click("#add-entry button[type=submit]")
    timeline = page.inner_text("#timeline")
    assert timeline.index("Staff reported") < timeline.index("Phase triage → containment")  # event time order
    shot(page, "incident-timeline")

    page.goto(server.url + "/incidents")
    card = page.locator(f"#col-containment a[href='/incidents/{incident_id}']")
    assert card.count() == 1 and page.evaluate("window.__xss") is None
    shot(page, "incident-board")
    assert page.dialogs == []


def test_request_approval_and_deployment(page: Any, server: Server) -> None:
    put_on_roster(server, "responder-mof")
    login_as(page, server, "org_officer-mofa")
    incident_id = open_incident(page, server, "Portal defaced")
    page.click("#tab-response")
    page.fill("#request-help textarea[name=reason]", "Need a web forensics responder")
    page.fill("#request-help input[name=skills]", "web forensics")
    page.click("#btn-request")
    assert "requested" in page.inner_text("#requests")
    shot(page, "assistance-requested")

    page.context.clear_cookies()
    login_as(page, server, "national_analyst-ncc")
    page.goto(server.url + "/assistance?status=requested")
    request = page.locator("section.request", has_text="Need a web forensics responder")
    request.locator("button.approve").click()
    request = page.locator("section.request", has_text="Need a web forensics responder")
    assert "approved" in request.locator("h2").inner_text()
    assert "responder-mof" in request.locator("table.suggestions").inner_text()
    shot(page, "assistance-approved")
    request.locator("table.suggestions tr", has_text="responder-mof").locator("button.deploy").click()
    assert "deployed" in page.locator("section.request", has_text="Need a web forensics responder").inner_text()
    shot(page, "assistance-deployed")

    page.context.clear_cookies()
    login_as(page, server, "responder-mof")
    page.goto(server.url + "/incidents")
    assert page.locator(".card").count() == 1 and "Portal defaced" in page.inner_text("#board")
    page.goto(server.url + f"/incidents/{incident_id}?tab=tasks")
    assert page.locator("#tasks tbody tr").count() == 9
    shot(page, "responder-view")

    page.context.clear_cookies()
    login_as(page, server, "org_officer-mofa")
    page.goto(server.url + "/assistance")
    page.locator("section.request", has_text="Need a web forensics responder").locator("button.release").click()
    page.context.clear_cookies()
    login_as(page, server, "responder-mof")
    response = page.goto(server.url + f"/incidents/{incident_id}")
    assert response.status == 404
