"""The navigation follows the role: every link shown opens, no page that refuses the role is linked, and a login
lands on a page the role may open. Walks every console GET route for every role, national and ministry."""

from __future__ import annotations

import re

import lxml.html
import pytest
from fastapi.testclient import TestClient

from mamori.accounts.enums import Role
from mamori.platform import Platform
from mamori.web.navigation import NAV
from tests.api.test_tenancy import plant
from tests.conftest import PASSWORD
from tests.web.test_error_pages import console_routes

SLOW = {"/incidents/{incident_id}/report.pdf"}  # rendered by its own tests; PDF per role would cost minutes


def nav_links(html: str) -> list[str]:
    return [a.get("href") for a in lxml.html.document_fromstring(html).cssselect("header nav a")]


def log_in(client: TestClient, username: str) -> str:
    """The console's own login form; returns where it lands."""
    client.cookies.clear()
    response = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return str(response.headers["location"])


@pytest.mark.parametrize("org", ["ncc", "mof"])
def test_every_shown_link_opens_and_no_refused_page_is_linked(client: TestClient, platform: Platform, org: str) -> None:
    ids = {**plant(client, platform), "which": "baseline"}
    for role in Role:
        user = f"{role.value}-{org}"
        landing = log_in(client, user)
        first = client.get(landing)
        assert first.status_code == 200, f"{user} lands on {landing} → {first.status_code}"
        shown = nav_links(first.text)
        assert shown, f"{user} sees no navigation"
        statuses: dict[str, int] = {}
        for route in console_routes("GET"):
            if route.path in SLOW or route.path == "/login":
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), route.path)
            response = client.get(url)
            statuses[route.path] = response.status_code
            assert response.status_code < 500, f"{user} GET {url} → {response.status_code}"
            if response.status_code in (200, 403, 404) and "text/html" in response.headers["content-type"]:
                if route.path.endswith("report.html") or "/source/" in route.path:
                    continue  # standalone documents, outside the console frame
                assert nav_links(response.text) == shown, f"{user}: {url} shows another navigation"
        for link in shown:  # a link with a query (My alerts) is a filtered page: opened as shown
            status = statuses[link] if link in statuses else client.get(link).status_code
            assert status == 200, f"{user} is shown {link}, which answers {status}"
        refused = {path for path, status in statuses.items() if status == 403 and "{" not in path}
        assert not refused & set(shown), f"{user} is shown links to pages refused to them: {refused & set(shown)}"
        hidden = {link.path.split("?")[0] for link in NAV} - {s.split("?")[0] for s in shown}
        assert hidden <= refused | {"/admin", "/my-tasks", "/incidents", "/metrics/incidents", "/assistance"}


def test_a_trainer_lands_on_the_statistics_not_a_403(client: TestClient) -> None:
    landing = log_in(client, "trainer-ncc")
    page = client.get(landing)
    assert page.status_code == 200
    assert "Potential attacks today" in page.text
    assert "/alerts" not in nav_links(page.text)
    assert 'id="live-feed"' not in page.text  # the alert stream would refuse a trainer
