"""In Chromium: a refused form comes back with the message and what was typed, inside the page frame; a trainer
lands on a page they may open and is never shown a link they may not follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mamori.alerts import service as alerts
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from tests.web.conftest import Server, login_as, shot

pytestmark = pytest.mark.browser


def plant_alert(server: Server) -> int:
    with server.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id="errors-browser",
                    rule_title="Form error test alert",
                    severity=Severity.MEDIUM,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"src_ip": "198.51.100.9"},
                    events=({"@id": "e:1"},),
                )
            ],
        )
    return folded.alert.id


def test_a_refused_org_form_comes_back_filled_in(page: Any, server: Server) -> None:
    login_as(page, server, "admin-ncc")
    page.goto(server.url + "/admin")
    form = page.locator("form[action='/admin/orgs']")
    form.locator("input[name=org_id]").fill("Not A Slug!")
    form.locator("input[name=name]").fill("Ministry of Typed Words")
    form.locator("button").click()
    page.wait_for_load_state()
    shot(page, "errors-org-form")
    form = page.locator("form[action='/admin/orgs']")
    assert "The form has a problem" in form.inner_text()
    assert form.locator("input[name=name]").input_value() == "Ministry of Typed Words"
    assert form.locator("input[name=org_id]").input_value() == "Not A Slug!"
    assert page.locator("form[action='/logout'] button").is_visible()
    assert page.locator("header nav").get_by_role("link", name="Alerts", exact=True).is_visible()


def test_a_refused_comment_keeps_its_words(page: Any, server: Server) -> None:
    alert_id = plant_alert(server)
    login_as(page, server, "national_analyst-ncc")
    page.goto(f"{server.url}/alerts/{alert_id}")
    words = "考察: " + "長い所見 " * 2100  # past the 10 000 characters a comment may have
    page.fill("#comment", words)
    page.click("#btn-comment")
    page.wait_for_load_state()
    shot(page, "errors-comment")
    assert page.locator("#form-error").is_visible()
    assert "The form has a problem" in page.inner_text("#form-error")
    assert page.input_value("#comment") == words
    assert page.locator("h1").first.inner_text() != "ValidationFailed"


def test_a_trainer_lands_somewhere_open_and_can_leave(page: Any, server: Server) -> None:
    login_as(page, server, "trainer-ncc")  # waits for the landing page "/"
    assert "Potential attacks today" in page.inner_text("main")
    links = page.locator("header nav a").all_inner_texts()
    assert "Alerts" not in links and "Admin" not in links
    page.goto(server.url + "/alerts")
    shot(page, "errors-trainer-403")
    assert page.locator("h1").inner_text() == "You may not open this page"
    page.click("text=To the start page")
    page.wait_for_url(server.url + "/")
    page.click("form[action='/logout'] button")
    page.wait_for_url(server.url + "/login")
