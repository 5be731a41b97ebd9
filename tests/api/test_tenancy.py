"""Walks every API route with every role of one ministry against the other ministry's objects.

Objects of `mofa` carry a marker string; no response to a `mof` caller may contain it, and no request may
change them. Routes are enumerated from the app, so a new route is walked without editing this test; a route
with a path parameter this test cannot fill fails the test until it is taught.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts.enums import Role, TokenScope
from mamori.accounts.models import ApiToken, User
from mamori.accounts.principal import Principal
from mamori.accounts.schemas import TokenIn
from mamori.accounts.service import create_token, principal_for
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.cases import measures, roster
from mamori.cases import service as response
from mamori.cases.models import AssistanceRequest, Deployment, Measure, ResponderProfile
from mamori.cases.schemas import DecisionIn, MeasureIn, ProfileIn, RequestIn
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.incidents import evidence, observables, tasks
from mamori.incidents import service as incidents
from mamori.incidents.enums import ObservableKind
from mamori.incidents.models import Evidence, Incident, Task
from mamori.incidents.schemas import IncidentIn, ObservableIn, TaskIn
from mamori.platform import Platform
from mamori.websites import service as websites
from mamori.websites.models import Website, WebsiteApproval, WebsiteBaseline, WebsiteCheck, WebsiteSnapshot
from mamori.websites.schemas import ApproveIn, WebsiteIn
from mamori.websites.storage import PageStores
from tests.conftest import login, make_token

MARKER = "MOFA-SECRET-7f3a"
ORG_FILTERED = {
    "/api/v1/events",
    "/api/v1/alerts",
    "/api/v1/dead-letters",
    "/api/v1/websites",
    "/api/v1/incidents",
    "/api/v1/incidents/board",
    "/api/v1/incidents/metrics",
}
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
        # A mofa responder: the people search (/api/v1/users/search) must not show them to a mof caller;
        # only the national roster managers search responders across ministries.
        responder = s.scalar(select(User).where(User.username == "responder-mofa"))
        assert responder is not None
        responder.display_name = MARKER
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.org_id == "mofa"))
        alert_id = folded.alert.id
    site_id, sha256, approval_id = plant_website(platform)
    return {
        "alert_id": alert_id,
        "user_id": user_id,
        "token_id": token_id,
        "org_id": "mofa",
        "site_id": site_id,
        "sha256": sha256,
        "approval_id": approval_id,
        **plant_incident(platform, alert_id),
    }


def _principal(s: Session, username: str) -> Principal:
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return principal_for(s, user)


def plant_incident(platform: Platform, alert_id: int) -> dict[str, int]:
    """An incident of mofa with a task, an observable, evidence, an approved request, a deployment, a measure."""
    with platform.db.session() as s:
        officer, lead = _principal(s, "org_officer-mofa"), _principal(s, "national_analyst-ncc")
        incident = incidents.create(
            s,
            principal=officer,
            data=IncidentIn(org_id="mofa", title=MARKER, description=MARKER, alert_ids=[alert_id]),
        )
        task = tasks.add(s, principal=officer, incident_id=incident.id, data=TaskIn(title=MARKER))
        observables.add(
            s, principal=officer, incident_id=incident.id, data=ObservableIn(kind=ObservableKind.URL, value=MARKER)
        )
        item = evidence.upload(
            s,
            principal=officer,
            incident_id=incident.id,
            chunks=[MARKER.encode()],
            filename=MARKER,
            content_type="text/plain",
            description=MARKER,
            files_dir=platform.settings.files_dir,
            max_bytes=1000,
        )
        request = response.request(s, principal=officer, incident_id=incident.id, data=RequestIn(reason=MARKER))
        response.decide(s, principal=lead, request_id=request.id, data=DecisionIn(approve=True, note=MARKER))
        responder = s.scalar(select(User.id).where(User.username == "responder-ncc"))
        assert responder is not None
        roster.upsert(s, principal=lead, data=ProfileIn(user_id=responder, home_org_id="ncc", skills=[MARKER]))
        deployment = response.deploy(s, principal=lead, request_id=request.id, user_id=responder)
        measure = measures.add(
            s,
            principal=officer,
            incident_id=incident.id,
            data=MeasureIn(title=MARKER, owner=MARKER, due_on=date(2030, 1, 1)),
        )
        s.flush()
        return {
            "incident_id": incident.id,
            "task_id": task.id,
            "evidence_id": item.id,
            "request_id": request.id,
            "deployment_id": deployment.id,
            "measure_id": measure.id,
        }


def plant_website(platform: Platform) -> tuple[int, str, int]:
    """A mofa website with a known-good page, a check, a baseline and a pending approval, each carrying MARKER."""
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
        # The page changed since and mofa's officer asked to approve it: pending, for a national analyst.
        site.latest_sha256 = stores.latest.put(site.uid, f"<h1>{MARKER} changed</h1>".encode())
        site.integrity = "changed"
        pending = websites.approve(
            s,
            principal=_principal(s, "org_officer-mofa"),
            site_id=site.id,
            data=ApproveIn(reason=MARKER, confirm_changed=True),
            stores=stores,
            now=datetime.now(UTC),
        )
        return site.id, snapshot.html_sha256, pending.id


def body_for(path: str, ids: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    """A plausible, valid body aimed at the other ministry (keyed "METHOD path" where methods differ)."""
    samples: dict[str, dict[str, Any]] = {
        "/api/v1/alerts/bulk": {
            "ids": [ids["alert_id"]],
            "action": "close",
            "resolution": "false_positive",
            "comment": "x",
        },
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
        "/api/v1/users/{user_id}/active": {"active": False, "reason": "planted"},
        "/api/v1/tokens/{token_id}/revoke": {"reason": "planted"},
        "DELETE /api/v1/websites/{site_id}": {"reason": "planted"},
        "/api/v1/incidents": {"org_id": "mofa", "title": "planted"},
        "/api/v1/incidents/{incident_id}": {"title": "planted", "category": "ddos"},
        "/api/v1/incidents/{incident_id}/transition": {"phase": "containment"},
        "/api/v1/incidents/{incident_id}/alerts": {"alert_ids": [1]},
        "/api/v1/incidents/{incident_id}/timeline": {"text": "planted"},
        "/api/v1/incidents/{incident_id}/tasks": {"title": "planted"},
        "/api/v1/tasks/{task_id}/actions": {"action": "complete", "notes": "planted"},
        "/api/v1/incidents/{incident_id}/observables": {"kind": "domain", "value": "planted.example"},
        "/api/v1/evidence/{evidence_id}/transfer": {"to": "thief"},
        "/api/v1/roster/{user_id}": {"user_id": 0, "home_org_id": "mofa"},
        "/api/v1/incidents/{incident_id}/assistance": {"reason": "planted"},
        "/api/v1/assistance/{request_id}/decision": {"approve": False},
        "/api/v1/assistance/{request_id}/deployments": {"user_id": 1},
        "/api/v1/incidents/{incident_id}/measures": {"title": "planted", "owner": "x", "due_on": "2030-01-01"},
        "/api/v1/measures/{measure_id}/done": {"note": "planted"},
        "/api/v1/websites": {"org_id": "mofa", "name": "stolen", "url": "https://stolen.example/"},
        "/api/v1/websites/{site_id}": {"enabled": False, "name": "stolen"},
        "/api/v1/websites/{site_id}/approve": {"reason": "x", "confirm_changed": True},
        "/api/v1/websites/{site_id}/approvals/{approval_id}/confirm": {"reason": "x"},
        "/api/v1/websites/{site_id}/approvals/{approval_id}/reject": {"reason": "x"},
    }
    return samples.get(f"{method} {path}", samples.get(path, {}))


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
            s.scalar(select(func.count()).where(AuditEntry.org_id == "mofa")),
            s.scalar(select(func.count()).select_from(Incident)),
            s.execute(select(Incident.phase, Incident.title, Incident.category, Incident.updated_at)).all(),
            s.execute(select(Task.status, Task.assignee_id, Task.notes)).all(),
            s.execute(select(Evidence.holder)).all(),
            s.execute(select(AssistanceRequest.status)).all(),
            s.execute(select(Deployment.released_at)).all(),
            s.execute(select(Measure.status)).all(),
            s.scalar(select(func.count()).select_from(ResponderProfile)),
            s.scalar(select(func.count()).where(AuditEntry.org_id == "mofa", AuditEntry.action.like("website.%"))),
            [(w.name, w.enabled, w.url) for w in s.scalars(select(Website).order_by(Website.id))],
            s.scalar(select(func.count()).select_from(WebsiteBaseline)),
            s.execute(select(WebsiteApproval.id, WebsiteApproval.status, WebsiteApproval.decided_by)).all(),
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
            kwargs: dict[str, Any] = {"json": body_for(path, ids, method)} if method != "GET" else {}
            if path in ORG_FILTERED:
                kwargs["params"] = {"org": "mofa"}
            response = client.request(method, url, **kwargs)
            walked += 1
            assert MARKER not in response.text, f"{method} {url} leaked: {response.status_code} {response.text[:300]}"
            if "{" in path:
                assert response.status_code in (403, 404, 401, 422), f"{method} {url} → {response.status_code}"
            if path == "/api/v1/alerts/bulk" and response.status_code == 200:  # answered per id: refused
                assert response.json()["done"] == 0, response.text
    assert snapshot(platform) == before
    assert walked >= 15


def test_bulk_and_assign_never_reach_across_ministries(client: TestClient, platform: Platform) -> None:
    """A ministry officer can neither bulk-triage the other ministry's alert nor give their own alerts to the
    other ministry's people; the choice of assignees names only people who may triage the alert."""
    ids = plant(client, platform)
    with platform.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="sigma",
                    rule_id="scan",
                    rule_title="Vulnerability Scanner User Agent",
                    severity=Severity.MEDIUM,
                    org="mof",
                    timestamp=datetime.now(UTC),
                    entities={"client_ip": "192.0.2.77"},
                )
            ],
        )
        ours = folded.alert.id
        theirs_before = s.execute(select(Alert.status, Alert.assignee_id).where(Alert.id == ids["alert_id"])).one()
    login(client, "org_officer-mof")
    mixed = client.post(
        "/api/v1/alerts/bulk",
        json={"ids": [ours, ids["alert_id"]], "action": "close", "resolution": "benign_positive", "comment": "scan"},
    )
    assert mixed.status_code == 200, mixed.text
    outcome = {r["id"]: r for r in mixed.json()["results"]}
    assert outcome[ours]["ok"] and outcome[ids["alert_id"]]["error"] == "NotFound"
    assert MARKER not in mixed.text
    outsider = ids["user_id"]  # org_officer-mofa
    given = client.post("/api/v1/alerts/bulk", json={"ids": [ours], "action": "assign", "assignee_id": outsider})
    assert given.status_code == 200 and given.json()["results"][0]["error"] == "ValidationFailed"
    single = client.post(f"/api/v1/alerts/{ours}/actions", json={"action": "assign", "assignee_id": outsider})
    assert single.status_code == 422 and single.json()["error"] == "ValidationFailed"
    people = client.get(f"/api/v1/alerts/{ours}/assignees")
    assert people.status_code == 200
    names = {p["username"] for p in people.json()}
    assert "national_analyst-ncc" in names and "org_officer-mof" in names
    assert not {n for n in names if n.endswith("-mofa")}
    with platform.db.session() as s:
        mine = s.get(Alert, ours)
        assert mine is not None and mine.assignee_id is None and mine.status == "closed"
        theirs = s.execute(select(Alert.status, Alert.assignee_id).where(Alert.id == ids["alert_id"])).one()
        assert theirs == theirs_before


@pytest.mark.parametrize("scope", list(TokenScope))
def test_no_route_leaks_or_changes_another_ministrys_objects_to_an_api_token(
    client: TestClient, platform: Platform, scope: TokenScope
) -> None:
    """The same walk with a `mof` API token of each scope instead of a session (no cookie, no CSRF token)."""
    ids = plant(client, platform)
    with platform.db.session() as s:
        secret, _ = create_token(s, principal=None, data=TokenIn(name="walker", org_id="mof", scopes=[scope]))
    before = snapshot(platform)
    headers = {"Authorization": f"Bearer {secret}"}
    walked = 0
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if path in SKIP or not path.startswith("/api/v1") or path in {"/api/v1/ingest", "/api/v1/health"}:
            continue
        for method in (m.upper() for m in operations):
            url = fill(path, ids)
            kwargs: dict[str, Any] = {"json": body_for(path, ids)} if method in {"POST", "PUT", "PATCH"} else {}
            if path in ORG_FILTERED:
                kwargs["params"] = {"org": "mofa"}
            response = client.request(method, url, headers=headers, **kwargs)
            walked += 1
            assert MARKER not in response.text, f"{method} {url} leaked: {response.status_code} {response.text[:300]}"
            if "{" in path or method != "GET" or scope is TokenScope.INGEST:
                assert response.status_code in (403, 404, 401, 422), f"{method} {url} → {response.status_code}"
    assert snapshot(platform) == before
    assert walked >= 15
