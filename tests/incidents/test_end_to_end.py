"""A website defacement of one ministry, from the alert to the closed incident, through the real app."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from pdfminer.high_level import extract_text
from sqlalchemy import select

from mamori.accounts.models import User
from mamori.alerts import service as alerts
from mamori.core.messages import Detection
from mamori.core.severity import Severity
from mamori.incidents.models import Notification
from mamori.platform import Platform
from tests.conftest import login

LOG = b'203.0.113.7 - - [01/Nov/2026:03:12:44 +0000] "POST /wp-admin/upload.php HTTP/1.1" 200 512\n' * 50


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if "json" in response.headers.get("content-type", "") else response


def uid(platform: Platform, username: str) -> int:
    with platform.db.session() as s:
        found = s.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def defacement_alert(platform: Platform) -> int:
    """What the website watch reports: the home page no longer matches the approved snapshot."""
    with platform.db.session() as s:
        (folded,) = alerts.fold(
            s,
            [
                Detection(
                    producer="website",
                    rule_id="website-defacement",
                    rule_title="www.mofa.example defaced",
                    severity=Severity.HIGH,
                    org="mofa",
                    timestamp=datetime.now(UTC),
                    entities={"url": "https://www.mofa.example/", "src_ip": "203.0.113.7"},
                )
            ],
        )
        return folded.alert.id


def wait_for_incident(client: TestClient) -> dict[str, Any]:
    """The grouping worker opens the incident from the alert (through the outbox and the bus)."""
    for _ in range(100):
        items = ok(client.get("/api/v1/incidents"))["items"]
        if items:
            return items[0]  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("no incident was opened from the defacement alert")


def test_a_defacement_from_alert_to_closed_incident(client: TestClient, platform: Platform) -> None:
    alert_id = defacement_alert(platform)
    login(client, "org_officer-mofa")
    incident = wait_for_incident(client)
    iid = incident["id"]
    assert incident["category"] == "defacement" and incident["phase"] == "triage"
    assert ok(client.get(f"/api/v1/incidents/{iid}"))["alert_ids"] == [alert_id]
    playbook = ok(client.get(f"/api/v1/incidents/{iid}/tasks"))
    assert len(playbook) == 9 and {t["source"] for t in playbook} == {"playbook:defacement"}

    # the ministry asks for help; the national centre approves and deploys a responder of another ministry
    request = ok(
        client.post(f"/api/v1/incidents/{iid}/assistance", json={"reason": "site defaced", "skills": ["web"]}), 201
    )
    responder = uid(platform, "responder-mof")
    login(client, "admin-ncc")
    ok(client.put(f"/api/v1/roster/{responder}", json={"user_id": responder, "home_org_id": "mof", "skills": ["web"]}))
    login(client, "national_analyst-ncc")
    ok(client.post(f"/api/v1/assistance/{request['id']}/decision", json={"approve": True, "note": "team on its way"}))
    suggested = ok(client.get(f"/api/v1/assistance/{request['id']}/suggestions"))
    assert suggested[0]["user_id"] == responder
    deployment = ok(client.post(f"/api/v1/assistance/{request['id']}/deployments", json={"user_id": responder}), 201)
    ok(client.post(f"/api/v1/incidents/{iid}/transition", json={"phase": "containment", "note": "maintenance page up"}))

    # the responder works the incident: tasks, evidence with its hash checked, timeline, observables
    login(client, "responder-mof")
    assert [i["id"] for i in ok(client.get("/api/v1/incidents"))["items"]] == [iid]
    for task in playbook[:5]:
        ok(client.post(f"/api/v1/tasks/{task['id']}/actions", json={"action": "complete", "notes": "done on site"}))
    upload = client.post(
        f"/api/v1/incidents/{iid}/evidence",
        files={"file": ("../access.log", io.BytesIO(LOG), "text/plain")},
        data={"description": "web server log"},
    )
    item = ok(upload, 201)
    assert item["sha256"] == hashlib.sha256(LOG).hexdigest() and item["filename"] == "access.log"
    download = client.get(f"/api/v1/evidence/{item['id']}/download")
    assert download.status_code == 200 and download.content == LOG
    assert hashlib.sha256(download.content).hexdigest() == download.headers["x-content-sha256"]
    custody = ok(client.get(f"/api/v1/evidence/{item['id']}/custody"))
    assert [c["action"] for c in custody] == ["upload", "download"]
    ok(client.post(f"/api/v1/incidents/{iid}/timeline", json={"text": "web shell found in /uploads"}), 201)
    ok(
        client.post(
            f"/api/v1/incidents/{iid}/observables",
            json={"kind": "url", "value": "https://www.mofa.example/uploads/x.php"},
        ),
        201,
    )

    # the ministry moves the incident on, records the root cause and the measures
    login(client, "org_officer-mofa")
    for phase in ("eradication", "recovery", "post_incident"):
        ok(client.post(f"/api/v1/incidents/{iid}/transition", json={"phase": phase}))
    ok(client.patch(f"/api/v1/incidents/{iid}", json={"root_cause": "Outdated upload plugin allowed a web shell"}))
    measure = ok(
        client.post(
            f"/api/v1/incidents/{iid}/measures",
            json={"title": "Patch CMS plugins monthly", "owner": "IT unit", "due_on": "2027-01-31"},
        ),
        201,
    )

    pdf = client.get(f"/incidents/{iid}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = extract_text(io.BytesIO(pdf.content))
    for expected in (
        "www.mofa.example defaced",
        "Root cause",
        "Outdated upload plugin",
        "Patch CMS plugins monthly",
        hashlib.sha256(LOG).hexdigest()[:16],
        "web shell found in /uploads",
        "responder-mof",
        "Recurrence-prevention measures",
    ):
        assert expected in text.replace("\n", " "), expected
    html = client.get(f"/incidents/{iid}/report.html")
    assert html.status_code == 200 and "Outdated upload plugin" in html.text

    # release: the responder loses access at once
    ok(client.post(f"/api/v1/deployments/{deployment['id']}/release"))
    login(client, "responder-mof")
    assert client.get(f"/api/v1/incidents/{iid}").status_code == 404
    assert ok(client.get("/api/v1/incidents"))["items"] == []

    login(client, "org_officer-mofa")
    close = {"phase": "closed", "resolution": "resolved", "reason": "site restored, patched"}
    closed = ok(client.post(f"/api/v1/incidents/{iid}/transition", json=close))
    assert closed["closed_at"] and closed["recovered_at"] and closed["contained_at"]
    assert [m["id"] for m in ok(client.get("/api/v1/measures?open_only=true"))] == [measure["id"]]
    ok(client.post(f"/api/v1/measures/{measure['id']}/done", json={"note": "monthly patching in place"}))
    assert ok(client.get("/api/v1/measures?open_only=true")) == []
    story = client.get(f"/api/v1/incidents/{iid}/narrative").text
    assert "Phase post_incident → closed as resolved, reason: site restored, patched" in story
    assert "Measure done" in story
    metrics = ok(client.get("/api/v1/incidents/metrics"))
    assert metrics[0]["org_id"] == "mofa" and metrics[0]["category"] == "defacement"
    with platform.db.session() as s:
        events = set(s.scalars(select(Notification.event)))
    assert {"assistance.requested", "assistance.approved", "assistance.deployed"} <= events
