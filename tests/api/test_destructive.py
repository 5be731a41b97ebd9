"""Every destructive API action (closing an alert, revoking a token, deactivating a user, deleting a website)
needs a reason: without one it is refused with a 422 naming the field and nothing changes; with one it is done
and the audit entry keeps the reason."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.accounts.models import ApiToken, User
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert, AlertComment
from mamori.audit.models import AuditEntry
from mamori.platform import Platform
from tests.conftest import login, make_token
from tests.platform.test_alerts import det

BLANK_REASONS: list[dict[str, Any]] = [{}, {"reason": ""}, {"reason": "   "}]


def audited(platform: Platform, action: str) -> list[AuditEntry]:
    with platform.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def refused(response: Any, field: str) -> None:
    """A 422 that names the missing field (the service's error, or the request validation's)."""
    assert response.status_code == 422, response.text
    assert field in response.text, response.text


def test_closing_an_alert_needs_a_reason(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        (folded,) = alerts.fold(s, [det(1)])
    url = f"/api/v1/alerts/{folded.alert.id}/actions"
    login(client, "org_officer-mof")
    for comment in (None, "", "  \n "):
        answer = client.post(url, json={"action": "close", "resolution": "false_positive", "comment": comment})
        refused(answer, "comment")
        assert "needs a reason" in answer.json()["message"]
    with platform.db.session() as s:
        assert s.get(Alert, folded.alert.id).status == "new"  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(AlertComment)) == 0
    assert audited(platform, "alert.close") == []
    done = client.post(url, json={"action": "close", "resolution": "false_positive", "comment": " our scanner "})
    assert done.status_code == 200 and done.json()["status"] == "closed"
    (entry,) = audited(platform, "alert.close")
    assert entry.details["reason"] == "our scanner" and entry.actor == "org_officer-mof"


def test_revoking_a_token_needs_a_reason(client: TestClient, platform: Platform) -> None:
    make_token(platform.db, "mof")
    with platform.db.session() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.org_id == "mof"))
    url = f"/api/v1/tokens/{token_id}/revoke"
    login(client, "admin-mof")
    refused(client.post(url), "body")  # no body at all
    for body in BLANK_REASONS:
        refused(client.post(url, json=body), "reason")
    with platform.db.session() as s:
        assert s.get(ApiToken, token_id).revoked_at is None  # type: ignore[union-attr]
    assert audited(platform, "token.revoke") == []
    done = client.post(url, json={"reason": "sensor decommissioned"})
    assert done.status_code == 200 and done.json()["revoked_at"] is not None
    (entry,) = audited(platform, "token.revoke")
    assert entry.details["reason"] == "sensor decommissioned"


def test_deactivating_a_user_needs_a_reason_activating_does_not(client: TestClient, platform: Platform) -> None:
    with platform.db.session() as s:
        user_id = s.scalar(select(User.id).where(User.username == "responder-mof"))
    url = f"/api/v1/users/{user_id}/active"
    login(client, "admin-mof")
    for body in BLANK_REASONS:
        refused(client.post(url, json={"active": False, **body}), "reason")
    with platform.db.session() as s:
        assert s.get(User, user_id).active is True  # type: ignore[union-attr]
    assert audited(platform, "user.deactivate") == []
    done = client.post(url, json={"active": False, "reason": "left the ministry"})
    assert done.status_code == 200 and done.json()["active"] is False
    (entry,) = audited(platform, "user.deactivate")
    assert entry.details["reason"] == "left the ministry"
    back = client.post(url, json={"active": True})  # giving access back destroys nothing: no reason needed
    assert back.status_code == 200 and back.json()["active"] is True


@pytest.mark.parametrize("body", [None, *BLANK_REASONS])
def test_deleting_a_website_needs_a_reason(client: TestClient, platform: Platform, body: dict[str, Any] | None) -> None:
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json={"org_id": "mof", "name": "Portal", "url": "https://mof.example/"})
    assert site.status_code == 201, site.text
    url = f"/api/v1/websites/{site.json()['id']}"
    answer = client.request("DELETE", url) if body is None else client.request("DELETE", url, json=body)
    assert answer.status_code == 422, answer.text
    assert client.get(url).status_code == 200  # still watched
    assert audited(platform, "website.delete") == []
    gone = client.request("DELETE", url, json={"reason": "moved to a new host"})
    assert gone.status_code == 204 and client.get(url).status_code == 404
    (entry,) = audited(platform, "website.delete")
    assert entry.details["reason"] == "moved to a new host" and entry.details["name"] == "Portal"


def test_pausing_a_websites_watch_needs_a_reason(client: TestClient, platform: Platform) -> None:
    """`enabled: false` stops the watch as deleting does (a defacement would go unseen): it needs a reason too;
    resuming and other changes do not."""
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json={"org_id": "mof", "name": "Portal", "url": "https://mof.example/"})
    url = f"/api/v1/websites/{site.json()['id']}"
    for body in ({"enabled": False}, {"enabled": False, "reason": "  "}):
        answer = client.patch(url, json=body)
        assert answer.status_code == 422 and answer.json()["where"] == "reason", answer.text
        assert client.get(url).json()["enabled"] is True
    paused = client.patch(url, json={"enabled": False, "reason": "site migrating this weekend"})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    assert audited(platform, "website.update")[-1].details["reason"] == "site migrating this weekend"
    assert client.patch(url, json={"enabled": True}).json()["enabled"] is True
    assert client.patch(url, json={"name": "Portal (new)"}).status_code == 200
