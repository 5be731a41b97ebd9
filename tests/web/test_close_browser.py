"""Closing one alert in Chromium goes through the confirmation page: the Close button only asks, the page names
the alert and will not submit without a reason, and the reason ends up on the alert and in the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from tests.web.conftest import Server, login_as, shot
from tests.web.test_triage_browser import plant


def test_close_one_alert_through_the_confirmation_page(page: Any, server: Server) -> None:
    title = f"Port scan {uuid.uuid4().hex[:8]}"
    (alert_id,) = plant(server, title)
    login_as(page, server, "org_officer-mof")
    page.goto(f"{server.url}/alerts/{alert_id}")
    page.select_option("#resolution", "benign_positive")
    page.click("#btn-close")
    assert page.inner_text("h1") == f"Close alert {alert_id}?" and title in page.inner_text("main")
    assert page.input_value("#close-resolution") == "benign_positive"
    page.click("#btn-close-confirm")  # no reason: the browser refuses to send the form
    assert page.locator("#close-reason:invalid").count() == 1
    with server.db.session() as s:
        assert s.scalar(select(Alert.status).where(Alert.id == alert_id)) == "new"
    shot(page, "alert-close-confirm")
    page.fill("#close-reason", "Our quarterly vulnerability scan")
    page.click("#btn-close-confirm")
    page.wait_for_url(f"{server.url}/alerts/{alert_id}")
    assert page.inner_text("#alert-status") == "closed (benign_positive)"
    assert "Our quarterly vulnerability scan" in page.inner_text("main")
    with server.db.session() as s:
        entry = s.scalar(
            select(AuditEntry).where(AuditEntry.action == "alert.close", AuditEntry.object_id == str(alert_id))
        )
        assert entry is not None and entry.details["reason"] == "Our quarterly vulnerability scan"
