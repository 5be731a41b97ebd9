"""Walks every API route with every role of one ministry against the other ministry's objects.

Objects of `mofa` carry a marker string; no response to a `mof` caller may contain it, and no request may
change them. Routes are enumerated from the app, so a new route is walked without editing this test; a route
with a path parameter this test cannot fill fails the test until it is taught.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.accounts.enums import Role
from mamori.accounts.models import ApiToken, User
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.platform import Platform
from mamori.websites import service as websites
from mamori.websites.models import Website, WebsiteBaseline, WebsiteCheck, WebsiteSnapshot
from mamori.websites.schemas import WebsiteIn
from mamori.websites.storage import PageStores
from tests.conftest import login, make_token

MARKER = "MOFA-SECRET-7f3a"
SKIP = {"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/alerts/stream"}  # covered by their own tests


def plant(client: TestClient, platform: Platform) -> dict[str, Any]:
    """Objects of mofa, each carrying MARKER somewhere a leak would show it."""
    token = make_token(platform.db, "mofa", sensor=MARKER)
    client.post(
        "/api/v1/ingest?format=json",
        headers={"Authorization": f"Bearer {token}"},
        content=orjson.dumps({"message": MARKER, "host": MARKER}) + b"\n{broken " + MARKER.encode(),
    )
    from datetime import UTC, datetime

    with platform.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id=MARKER,
                    rule_title=MARKER,
                    severity=Severity.HIGH,
                    org="mofa",
                    timestamp=datetime.now(UTC),
                    entities={"host": MARKER},
                    events=({"@id": MARKER},),
                )
            ],
        )
        user_id = s.scalar(select(User.id).where(User.username == "org_officer-mofa"))
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.org_id == "mofa"))
    site_id, sha256 = plant_website(platform)
    return {
        "alert_id": folded.alert.id,
        "user_id": user_id,
        "token_id": token_id,
        "org_id": "mofa",
        "site_id": site_id,
        "sha256": sha256,
    }


def plant_website(platform: Platform) -> tuple[int, str]:
    """A mofa website with a known-good page, a check and a baseline, each carrying MARKER."""
    from datetime import UTC, datetime

    stores = PageStores.under(platform.settings.data_dir)
    with platform.db.session() as s:
        site = websites.create(
            s, principal=None, data=WebsiteIn(org_id="mofa", name=MARKER, url=f"https://mofa.example/{MARKER}")
        )
        site.latest_sha256 = stores.latest.put(site.uid, f"<title>{MARKER}</title>".encode())
        s.add(WebsiteCheck(website_id=site.id, org_id="mofa", checked_at=datetime.now(UTC), up=True,
                           availability="up", reasons=[MARKER], error=MARKER))  # fmt: skip
        baseline = websites.adopt_first_page(s, website=site, stores=stores, now=datetime.now(UTC))
        snapshot = s.get(WebsiteSnapshot, baseline.snapshot_id)
        assert snapshot is not None
        return site.id, snapshot.html_sha256


def body_for(path: str) -> dict[str, Any]:
    """A plausible, valid body aimed at the other ministry."""
    samples: dict[str, dict[str, Any]] = {
        "/api/v1/orgs": {"id": "stolen", "name": MARKER, "kind": "ministry"},
        "/api/v1/users": {
            "username": "intruder",
            "password": "0123456789ab",
            "memberships": [{"org_id": "mofa", "role": "admin"}],
        },
        "/api/v1/tokens": {"name": "stolen", "org_id": "mofa"},
        "/api/v1/alerts/{alert_id}/actions": {
            "action": "close",
            "resolution": "false_positive",
            "comment": "x",
        },
        "/api/v1/users/{user_id}/active": {"active": False},
        "/api/v1/websites": {"org_id": "mofa", "name": "stolen", "url": "https://stolen.example/"},
        "/api/v1/websites/{site_id}": {"enabled": False, "name": "stolen"},
        "/api/v1/websites/{site_id}/approve": {"note": "x"},
    }
    return samples.get(path, {})


def fill(path: str, ids: dict[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"teach test_tenancy how to fill {{{name}}} in {path}")
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", sub, path)


def snapshot(platform: Platform) -> tuple[Any, ...]:
    with platform.db.session() as s:
        alert = s.scalar(select(Alert).where(Alert.org_id == "mofa"))
        assert alert is not None
        return (
            alert.status,
            alert.assignee_id,
            s.scalar(select(func.count()).select_from(User)),
            s.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))),
            s.scalar(select(func.count()).where(AuditEntry.org_id == "mofa", AuditEntry.action.like("alert.%"))),
            s.scalar(select(func.count()).where(AuditEntry.org_id == "mofa", AuditEntry.action.like("website.%"))),
            [(w.name, w.enabled, w.url) for w in s.scalars(select(Website).order_by(Website.id))],
            s.scalar(select(func.count()).select_from(WebsiteBaseline)),
        )


@pytest.mark.parametrize("role", list(Role))
def test_no_route_leaks_or_changes_another_ministrys_objects(
    client: TestClient, platform: Platform, role: Role
) -> None:
    ids = plant(client, platform)
    before = snapshot(platform)
    login(client, f"{role.value}-mof")
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    walked = 0
    for path, operations in paths.items():
        if path in SKIP or not path.startswith("/api/v1"):
            continue
        for method in (m.upper() for m in operations):
            url = fill(path, ids)
            kwargs: dict[str, Any] = {"json": body_for(path)} if method in {"POST", "PUT", "PATCH"} else {}
            if path in ("/api/v1/events", "/api/v1/alerts", "/api/v1/dead-letters", "/api/v1/websites"):
                kwargs["params"] = {"org": "mofa"}
            response = client.request(method, url, **kwargs)
            walked += 1
            assert MARKER not in response.text, f"{method} {url} leaked: {response.status_code} {response.text[:300]}"
            if "{" in path:
                assert response.status_code in (403, 404, 401, 422), f"{method} {url} → {response.status_code}"
    assert snapshot(platform) == before
    assert walked >= 15
