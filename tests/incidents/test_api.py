"""API details the end-to-end walk does not cover: cursors, the board, tampered evidence, CSRF, escaping."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

from mamori.incidents.evidence import path_for
from mamori.platform import Platform
from tests.conftest import login


def test_keyset_cursor_and_board(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    ids = [client.post("/api/v1/incidents", json={"org_id": "mof", "title": f"i{n}"}).json()["id"] for n in range(5)]
    first = client.get("/api/v1/incidents?limit=3").json()
    second = client.get(f"/api/v1/incidents?limit=3&before_id={first['next_before_id']}").json()
    assert [i["id"] for i in first["items"] + second["items"]] == ids[::-1]
    assert second["next_before_id"] is None
    board = client.get("/api/v1/incidents/board").json()
    assert board["triage"]["count"] == 5 and board["triage"]["count_cap"] == 999
    assert list(board) == ["triage", "containment", "eradication", "recovery", "post_incident"]


def test_tampered_evidence_is_refused_and_the_refusal_is_in_the_custody_log(
    client: TestClient, platform: Platform
) -> None:
    login(client, "org_officer-mof")
    iid = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "x"}).json()["id"]
    item = client.post(f"/api/v1/incidents/{iid}/evidence", files={"file": ("a.bin", io.BytesIO(b"original"))}).json()
    stored = path_for(platform.settings.files_dir, item["sha256"])
    stored.chmod(0o640)
    stored.write_bytes(b"altered!")
    response = client.get(f"/api/v1/evidence/{item['id']}/download")
    assert response.status_code == 409 and response.json()["error"] == "EvidenceTampered"
    custody = client.get(f"/api/v1/evidence/{item['id']}/custody").json()
    assert [c["action"] for c in custody] == ["upload", "integrity_failure"]


def test_oversized_evidence_is_413(client: TestClient, platform: Platform) -> None:
    platform.settings.evidence_max_bytes = 10
    login(client, "org_officer-mof")
    iid = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "x"}).json()["id"]
    response = client.post(f"/api/v1/incidents/{iid}/evidence", files={"file": ("a.bin", io.BytesIO(b"x" * 11))})
    assert response.status_code == 413


def test_cookie_requests_need_the_csrf_token(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    del client.headers["X-CSRF-Token"]
    response = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "x"})
    assert response.status_code == 403


def test_report_html_escapes_incident_text(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    hostile = "<script>alert(1)</script>"
    iid = client.post("/api/v1/incidents", json={"org_id": "mof", "title": hostile, "description": hostile}).json()[
        "id"
    ]
    html = client.get(f"/incidents/{iid}/report.html").text
    assert hostile not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = client.get(f"/incidents/{iid}").text
    assert hostile not in page


def test_the_response_sweep_records_breaches_and_delivers_notifications(client: TestClient, platform: Platform) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from mamori.incidents.models import Incident, Notification, SlaBreach
    from mamori.workers import response

    login(client, "org_officer-mof")
    iid = client.post("/api/v1/incidents", json={"org_id": "mof", "title": "x", "severity": "critical"}).json()["id"]
    with platform.db.session() as s:
        incident = s.get(Incident, iid)
        assert incident is not None
        incident.detected_at -= timedelta(hours=5)  # past the 15 min and 4 h targets of a critical incident
    breaches, sent = response.sweep(platform)
    assert (breaches, sent) == (2, 2)  # one notification per breach; no lead, so webhook-only rows (no channel)
    assert response.sweep(platform) == (0, 0)
    with platform.db.session() as s:
        assert sorted(s.scalars(select(SlaBreach.metric))) == ["acknowledge", "contain"]
        assert all(s.scalars(select(Notification.sent_at)))
