"""A real user's first hour with incidents, in Chromium: an escalated alert links to its one incident (and is
not offered a second), closing ends deployments, closed incidents are found again, reopening needs a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mamori.alerts import service as alerts
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from tests.web.conftest import Server, login_as, shot

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
    assert "AlertInAnotherIncident" in page.inner_text("main")
