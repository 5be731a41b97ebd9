"""Closing one alert in the console over HTTP: the Close button only asks (a confirmation page naming the alert,
with resolution and reason fields); the confirmed form without a reason is a clear 422; nothing is closed until
both are given, and then the audit entry keeps the reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.platform import Platform
from tests.conftest import login
from tests.platform.test_alerts import det


def status_of(platform: Platform, alert_id: int) -> str:
    with platform.db.session() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        return alert.status


def test_closing_one_alert_asks_first_and_needs_a_reason(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        (folded,) = alerts.fold(s, [det(1)])
    alert_id = folded.alert.id
    url = f"/alerts/{alert_id}/actions"
    login(client, "org_officer-mof")
    asked = client.post(url, data={"action": "close", "resolution": "true_positive"})
    assert asked.status_code == 200 and f"Close alert {alert_id}?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and 'value="true_positive" selected' in asked.text
    assert status_of(platform, alert_id) == "new"  # the Close button alone closes nothing
    for comment in ("", "   "):
        no_reason = client.post(
            url, data={"action": "close", "resolution": "true_positive", "confirmed": "yes", "comment": comment}
        )
        assert no_reason.status_code == 422 and "closing an alert needs a reason" in no_reason.text
    unknown = client.post(url, data={"action": "close", "resolution": "gone", "confirmed": "yes", "comment": "x"})
    assert unknown.status_code == 422
    assert status_of(platform, alert_id) == "new"
    done = client.post(
        url,
        data={"action": "close", "resolution": "true_positive", "confirmed": "yes", "comment": "Blocked at the edge"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/alerts/{alert_id}"
    assert status_of(platform, alert_id) == "closed"
    with platform.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "alert.close"))
        assert entry is not None and entry.details["reason"] == "Blocked at the edge"


def test_the_confirmation_page_is_only_for_those_who_may_close(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        (folded,) = alerts.fold(s, [det(1)])  # a mof alert
    login(client, "org_officer-mofa")  # another ministry: the alert does not exist for them
    asked = client.post(f"/alerts/{folded.alert.id}/actions", data={"action": "close"})
    assert asked.status_code == 404 and folded.alert.rule_title not in asked.text
    login(client, "auditor-mof")  # sees the alert, may not triage it: no page offering to close it
    asked = client.post(f"/alerts/{folded.alert.id}/actions", data={"action": "close"})
    assert asked.status_code == 403 and "confirmed" not in asked.text
