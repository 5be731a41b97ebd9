"""The first-hour walk in Chromium, using only what the console shows (names, labels, links - never ids):

defacement alert → incident → request assistance → approve → deploy → evidence → measure → report → close
(confirmed on its own page, with a reason).

The alert is real: a loopback site defaced after its first check, found by the server's own website watch
("Check now" clicked in the console). Setup outside the browser is limited to what an administrator does
before the hour starts: registering the site and creating the responder's account.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mamori.accounts import service as accounts
from mamori.accounts.enums import Role
from mamori.accounts.models import User
from mamori.accounts.schemas import MembershipIn, UserIn
from tests.conftest import PASSWORD
from tests.web.conftest import Server, login_as, shot
from tests.web.test_websites import HOSTILE, register, wait_for
from tests.websites.farm import SiteFarm
from tests.websites.pages import ministry_page

pytestmark = pytest.mark.browser
RESPONDER, USERNAME = "Ren Suzuki", "ren.suzuki"  # a responder of mofa, helping mof
REASON = "Walk portal defaced: send someone to preserve the evidence and compare with the known-good copy"
MEASURE = "Move the CMS admin behind the VPN"


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    page.set_default_timeout(90_000)  # 2 busy cores render slowly


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def as_user(page: Any, server: Server, username: str) -> None:
    page.context.clear_cookies()
    login_as(page, server, username)


def nav(page: Any, label: str) -> None:
    page.locator("header nav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def tab(page: Any, label: str) -> None:
    page.locator("nav.tabs").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def open_card(page: Any, number: str) -> None:
    """Open the incident whose card on the board shows `number` ("#12")."""
    page.locator("a.card").filter(has=page.locator("b", has_text=re.compile(rf"^{number}$"))).click()
    page.wait_for_load_state()


def hire_the_responder(server: Server) -> None:
    """Another ministry's responder, with a name people know them by (a fresh account: other browser tests
    share this server and pick "responder-mof" by text)."""
    with server.db.session() as s:
        if s.scalar(select(User).where(User.username == USERNAME)) is None:
            data = UserIn(
                username=USERNAME,
                password=PASSWORD,
                display_name=RESPONDER,
                memberships=[MembershipIn(org_id="mofa", role=Role.RESPONDER)],
            )
            accounts.create_user(s, principal=None, data=data)


def test_defacement_alert_to_closed_incident_by_names_only(
    page: Any, server: Server, farm: SiteFarm, tmp_path: Path
) -> None:
    hire_the_responder(server)
    farm.set("/walk-portal/", ministry_page())
    site_url = farm.url("/walk-portal/")
    site_id = register(server, "Walk portal", site_url)
    wait_for(server, site_id, lambda s: s.integrity == "ok" or s.last_checked_at is not None)
    farm.set("/walk-portal/", HOSTILE)

    # The national analyst puts the responder on the roster, picked by name (no user id to know).
    as_user(page, server, "national_analyst-ncc")
    nav(page, "Roster")
    page.get_by_label("Person").fill("Nobody Here")
    page.locator("#roster-form").get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "nobody called 'Nobody Here'" in page.inner_text("main")  # a clear refusal, not a 500
    page.go_back()
    page.wait_for_load_state()
    person = page.get_by_label("Person")
    person.press_sequentially("suzu")  # the picker asks the people search as one types
    page.wait_for_function(
        "() => { const o = document.querySelectorAll('#roster-people option');"
        " return o.length === 1 && o[0].value === 'ren.suzuki'; }"
    )
    assert RESPONDER in page.locator("#roster-people option").first.inner_text()
    person.fill(RESPONDER)
    page.get_by_label("Skills").fill("web forensics")
    page.locator("#roster-form").get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    row = page.locator("#roster tr", has_text=RESPONDER)
    assert row.count() == 1 and "mofa" in row.inner_text() and "web" in row.inner_text(), page.inner_text("main")
    shot(page, "walk-01-roster")

    # The ministry officer asks the watch to look now; the defacement becomes an alert.
    as_user(page, server, "org_officer-mof")
    nav(page, "Websites")
    page.locator("a.site-tile", has_text="Walk portal").click()
    page.get_by_role("button", name="Check now").click()
    wait_for(server, site_id, lambda s: s.integrity == "defaced")
    nav(page, "Alerts")
    alert_row = page.locator("table.alerts tbody tr", has_text="Website defaced").filter(has_text=site_url)
    assert alert_row.count() == 1, page.inner_text("main")
    alert_row.get_by_role("link", name="Website defaced").click()
    page.wait_for_load_state()
    shot(page, "walk-02-alert")

    # ... and opens an incident from it (or follows the alert to the incident it is already in, where the alert
    # page shows that: the watch's grouping rule opens one for every defacement).
    already = page.locator("main a[href^='/incidents/']")
    if already.count():
        already.first.click()
    else:
        opener = page.locator("form", has=page.locator("#btn-incident"))
        opener.locator("input[name=title]").fill("Walk portal defaced")
        opener.locator("select[name=category]").select_option(label="defacement")
        page.locator("#btn-incident").click()
    page.wait_for_load_state()
    heading = page.inner_text("h1")
    number = re.search(r"#\d+", heading)
    assert number is not None and "defaced" in heading.lower(), heading
    card = number.group()  # the incident's number, as the board's cards show it
    assert "Website defaced" in page.inner_text("main")  # the alert it came from
    shot(page, "walk-03-incident")

    tab(page, "response")
    page.get_by_placeholder("What help is needed").fill(REASON)
    page.get_by_placeholder("skills, e.g. web forensics").fill("web forensics")
    page.get_by_role("button", name="Request assistance").click()
    page.wait_for_load_state()
    assert "requested" in page.inner_text("#requests")
    shot(page, "walk-04-requested")

    # The national analyst approves and deploys the responder, chosen by name.
    as_user(page, server, "national_analyst-ncc")
    nav(page, "Assistance")
    request = page.locator("section.request", has_text=REASON)
    request.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    request = page.locator("section.request", has_text=REASON)
    assert "approved" in request.locator("h2").inner_text()
    assert RESPONDER in request.locator("table.suggestions").inner_text()
    request.get_by_label("Deploy by name").fill(RESPONDER)
    request.locator("form.deploy-by-name").get_by_role("button", name="Deploy").click()
    page.wait_for_load_state()
    deployed = page.locator("section.request", has_text=REASON).locator("ul.deployed")
    assert RESPONDER in deployed.inner_text() and "deployed" in deployed.inner_text()
    shot(page, "walk-05-deployed")

    # The responder finds the incident on their board, uploads evidence and agrees a measure.
    as_user(page, server, USERNAME)
    nav(page, "Incidents")
    open_card(page, card)
    assert card in page.inner_text("h1")
    tab(page, "evidence")
    log = tmp_path / "walk-access.log"
    log.write_bytes(b"203.0.113.9 - - POST /cms/admin 200\n" * 50)
    page.set_input_files("#upload input[type=file]", str(log))
    page.locator("#upload").get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert "walk-access.log" in page.inner_text("#evidence")
    shot(page, "walk-06-evidence")
    tab(page, "response")
    assert RESPONDER in page.inner_text("#deployments")  # a name, not a user id
    page.get_by_placeholder("Measure").fill(MEASURE)
    page.get_by_placeholder("Owner").fill("MOF web team")
    page.locator("input[name=due_on]").fill("2030-01-31")
    page.get_by_role("button", name="Add measure").click()
    page.wait_for_load_state()
    assert MEASURE in page.inner_text("#measures")
    shot(page, "walk-07-measure")

    # The officer reads the report (HTML, and the PDF link gives a PDF), then closes the incident.
    as_user(page, server, "org_officer-mof")
    nav(page, "Incidents")
    open_card(page, card)
    with page.expect_download() as download:
        page.locator("nav.tabs").get_by_role("link", name="PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    page.locator("nav.tabs").get_by_role("link", name="report", exact=True).click()
    page.wait_for_load_state()
    report = page.inner_text("body")
    assert f"Incident report {card[1:]}" in report and MEASURE in report and "walk-access.log" in report
    shot(page, "walk-08-report")
    page.go_back()
    page.wait_for_load_state()
    tab(page, "overview")
    page.locator("#next-phase").select_option(label="closed")
    page.locator("#transition select[name=resolution]").select_option(label="resolved")
    page.locator("#transition input[name=note]").fill("Restored from the known-good copy; admin moved behind VPN")
    page.locator("#transition").get_by_role("button", name=re.compile("Move|Close")).click()
    page.wait_for_load_state()
    # Closing asks first, saying who loses access, and wants a reason.
    assert page.get_by_role("heading", name=f"Close incident {card}?").is_visible(), page.inner_text("main")
    assert f"will be released and lose access to it: {RESPONDER}." in page.inner_text("main")
    assert page.get_by_label("Resolution").input_value() == "resolved"
    page.get_by_label(re.compile("^Reason for closing")).fill("Defacement removed, CMS patched, admin behind VPN")
    shot(page, "walk-09-close-confirm")
    page.get_by_role("button", name=f"Close incident {card}").click()
    page.wait_for_load_state()
    assert "closed" in page.inner_text("#phase .current"), page.inner_text("main")
    shot(page, "walk-10-closed")
    assert page.dialogs == []
