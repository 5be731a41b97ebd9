"""A real user's first hour with incidents, in Chromium: an escalated alert links to its one incident (and is
not offered a second), closing asks for confirmation and a reason and ends deployments, closed incidents are found
again, reopening needs a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.accounts.service import principal_for
from mamori.alerts import service as alerts
from mamori.cases import roster
from mamori.cases import service as response
from mamori.cases.schemas import DecisionIn, ProfileIn, RequestIn
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from tests.web.conftest import Server, login_as, shot
from tests.web.test_incidents_browser import open_incident

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    page.set_default_timeout(90_000)  # CI machines with 2 busy cores are slow to render


def plant_alert(server: Server, org: str, title: str) -> int:
    """A high alert no grouping rule takes (the server's grouping worker would open an incident itself)."""
    with server.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id=f"first-hour-{title}",
                    rule_title=title,
                    severity=Severity.HIGH,
                    org=org,
                    timestamp=datetime.now(UTC),
                    entities={"src_ip": "198.51.100.20", "host": f"{title}.example"},
                )
            ],
        )
        return folded.alert.id


def test_an_escalated_alert_links_to_its_one_incident(page: Any, server: Server) -> None:
    alert_id = plant_alert(server, "mofa", "brute-force-vpn")
    login_as(page, server, "org_officer-mofa")
    page.goto(f"{server.url}/alerts/{alert_id}")
    assert page.locator("#alert-incident").count() == 0
    page.click("#btn-incident")
    page.wait_for_url(f"{server.url}/incidents/*")
    incident_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator(f"a[href='/alerts/{alert_id}']").count() == 1  # the incident lists its alert

    page.goto(f"{server.url}/alerts/{alert_id}")
    assert page.locator("#btn-incident").count() == 0  # no second "Open incident"
    assert page.inner_text("#alert-incident") == f"#{incident_id}"
    shot(page, "alert-escalated")
    page.click("#btn-go-incident")
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")

    page.goto(f"{server.url}/alerts?org=mofa")
    row = page.locator("table.alerts tbody tr", has=page.locator(f"a[href='/alerts/{alert_id}']"))
    assert row.locator("td.incident").inner_text() == f"#{incident_id}"
    row.locator(f"td.incident a[href='/incidents/{incident_id}']").click()
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")
    assert page.dialogs == []


def test_a_second_incident_for_an_escalated_alert_is_refused_with_the_incidents_name(page: Any, server: Server) -> None:
    alert_id = plant_alert(server, "mofa", "password-spray")
    login_as(page, server, "org_officer-mofa")
    page.goto(f"{server.url}/alerts/{alert_id}")
    page.click("#btn-incident")
    page.wait_for_url(f"{server.url}/incidents/*")
    incident_id = int(page.url.rsplit("/", 1)[1])
    # a stale tab still showing the old form, or the board's form with the alert id typed in
    page.goto(f"{server.url}/incidents")
    page.fill("#new-incident input[name=title]", "Second try")
    page.fill("#new-incident input[name=alert_ids]", str(alert_id))
    page.click("#new-incident button[type=submit]")
    assert f"incident #{incident_id}" in page.inner_text("main")
    assert "belongs to incident" in page.inner_text("main")  # said in words, not as an exception's name
    page.click("#error-incident")  # the refusal leads to the incident that has the alert
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")


def deploy_responder(server: Server, incident_id: int, username: str) -> None:
    """The request/approval/deployment flow has its own browser test; here it is done through the services
    (with a responder that test does not look for: the server and its roster are shared)."""
    with server.db.session() as s:
        officer = principal_for(s, _user(s, "org_officer-mof"))
        lead = principal_for(s, _user(s, "national_analyst-ncc"))
        responder = _user(s, username).id
        roster.upsert(s, principal=lead, data=ProfileIn(user_id=responder, home_org_id="ncc", max_load=2))
        req = response.request(s, principal=officer, incident_id=incident_id, data=RequestIn(reason="web forensics"))
        response.decide(s, principal=lead, request_id=req.id, data=DecisionIn(approve=True))
        response.deploy(s, principal=lead, request_id=req.id, user_id=responder)


def _user(s: Any, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def roster_load(page: Any, server: Server, username: str) -> str:
    page.goto(server.url + "/roster")
    return str(page.locator("#roster tr", has_text=username).locator("td.num").inner_text())


def test_closing_releases_the_responder_and_the_incident_is_found_among_the_closed(page: Any, server: Server) -> None:
    login_as(page, server, "org_officer-mof")
    incident_id = open_incident(page, server, "Customs portal defaced", org="mof")
    deploy_responder(server, incident_id, "responder-ncc")
    page.context.clear_cookies()
    login_as(page, server, "national_analyst-ncc")
    assert roster_load(page, server, "responder-ncc") == "1 / 2"
    row = page.locator("#roster tr", has_text="responder-ncc")
    assert row.locator("td.deployed-on").inner_text().strip() == f"#{incident_id}"
    page.context.clear_cookies()
    login_as(page, server, "responder-ncc")
    assert page.goto(f"{server.url}/incidents/{incident_id}").status == 200

    page.context.clear_cookies()
    login_as(page, server, "org_officer-mof")
    page.goto(f"{server.url}/incidents/{incident_id}")
    assert "releases the 1 responder(s)" in page.inner_text("#close-warning")
    page.select_option("#next-phase", "closed")
    page.select_option("#transition select[name=resolution]", "resolved")
    page.click("#btn-move")  # Move → closed only asks: a page saying what closing will do
    assert page.inner_text("h1") == f"Close incident #{incident_id}?"
    effects = page.inner_text("#close-effects")
    assert "closed with resolution resolved" in effects
    assert "1 deployed responder(s) will be released and lose access to it: responder-ncc." in effects
    assert page.eval_on_selector("#close-resolution", "s => s.value") == "resolved"
    shot(page, "incident-close-confirm")
    page.click("#close-confirm >> text=Cancel")  # not confirmed: nothing changed
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")
    assert page.inner_text("#phase .current") == "triage"
    assert "releases the 1 responder(s)" in page.inner_text("#close-warning")

    page.select_option("#next-phase", "closed")
    page.click("#btn-move")
    page.select_option("#close-resolution", "resolved")
    page.click("#btn-close-confirm")  # the browser asks for the reason before sending anything
    assert page.eval_on_selector("#close-reason", "t => t.validity.valueMissing") is True
    page.eval_on_selector("#close-reason", "t => t.removeAttribute('required')")
    page.click("#btn-close-confirm")  # a form without the browser's check is refused by the server, clearly
    assert "closing an incident needs a reason" in page.inner_text("main")
    page.go_back()
    page.fill("#close-reason", "Portal restored from the known-good copy")
    page.click("#btn-close-confirm")
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")
    assert "closed (resolved)" in page.inner_text("#phase")
    page.click("#tab-timeline")
    assert "closed as resolved, reason: Portal restored from the known-good copy" in page.inner_text("#timeline")
    page.click("#tab-response")
    assert "released" in page.inner_text("#deployments")

    page.goto(server.url + "/incidents")
    assert page.locator(f"#board a[href='/incidents/{incident_id}']").count() == 0  # off the board …
    page.click("#link-closed")
    page.fill("#closed-q", "customs PORTAL")
    page.select_option("#closed-filters select[name=category]", "defacement")
    page.click("#closed-filters button[type=submit]")
    assert page.locator("#closed tbody tr").count() == 1  # … and found among the closed
    assert page.locator(f"#closed a[href='/incidents/{incident_id}']").count() == 2
    shot(page, "incidents-closed")
    page.fill("#closed-filters input[name=closed_to]", "2001-01-01")
    page.click("#closed-filters button[type=submit]")
    assert page.inner_text("#closed tbody") == "No closed incident matches."
    page.fill("#closed-q", f"#{incident_id}")
    page.fill("#closed-filters input[name=closed_to]", "")
    page.select_option("#closed-filters select[name=category]", "")
    page.click("#closed-filters button[type=submit]")
    assert page.locator("#closed tbody tr").count() == 1

    page.context.clear_cookies()
    login_as(page, server, "responder-ncc")
    assert page.goto(f"{server.url}/incidents/{incident_id}").status == 404  # access ended with the incident
    page.context.clear_cookies()
    login_as(page, server, "national_analyst-ncc")
    assert roster_load(page, server, "responder-ncc") == "0 / 2"
    assert page.locator("#roster tr", has_text="responder-ncc").locator("td.deployed-on").inner_text() == "—"
    assert page.dialogs == []


def test_move_defaults_forward_and_reopening_asks_for_a_reason(page: Any, server: Server) -> None:
    login_as(page, server, "org_officer-mof")
    incident_id = open_incident(page, server, "Reopen me", org="mof")
    for expected in ("containment", "eradication", "recovery", "post_incident"):
        assert page.eval_on_selector("#next-phase", "s => s.value") == expected  # never a step back
        page.click("#btn-move")  # one click moves forward
        assert page.inner_text("#phase .current") == expected.replace("_", "-")
    assert page.eval_on_selector("#next-phase", "s => s.value") == "closed"
    page.select_option("#transition select[name=resolution]", "resolved")
    page.click("#btn-move")
    assert "No responder is deployed on it." in page.inner_text("#close-effects")
    page.fill("#close-reason", "false alarm after all")
    page.click("#btn-close-confirm")
    page.wait_for_url(f"{server.url}/incidents/{incident_id}")
    assert page.locator("#transition").count() == 0  # a closed incident offers no one-click move …
    page.click("#btn-reopen")  # … and the browser asks for the reason before sending anything
    assert page.eval_on_selector("#reopen-reason", "t => t.validity.valueMissing") is True
    assert "closed" in page.inner_text("#phase .current")
    page.eval_on_selector("#reopen-reason", "t => t.removeAttribute('required')")
    page.click("#btn-reopen")  # a form without the browser's check is refused by the server, clearly
    assert "reopening a closed incident needs a reason" in page.inner_text("main")
    page.goto(f"{server.url}/incidents/{incident_id}")
    page.fill("#reopen-reason", "defaced again at 04:10")
    page.click("#btn-reopen")
    assert page.inner_text("#phase .current") == "triage"
    page.click("#tab-timeline")
    assert "Reopened (closed → triage), reason: defaced again at 04:10" in page.inner_text("#timeline")
    shot(page, "incident-reopened")
    assert page.dialogs == []
