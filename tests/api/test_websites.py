"""/api/v1/websites through the real app: roles, validation, approvals, downloads, audit."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.audit.models import AuditEntry
from mamori.bus import subjects
from mamori.platform import Platform
from mamori.storage.outbox import OutboxMessage
from mamori.websites import service
from mamori.websites.models import Website
from mamori.websites.storage import PageStores
from tests.conftest import login

SITE = {"org_id": "mof", "name": "Finance portal", "url": "https://www.mof.example/"}
PAGE = b"<html><head><title>Ministry of Finance</title></head><body><h1>Welcome</h1><script>x()</script></body></html>"


def fetched(platform: Platform, site_id: int, body: bytes = PAGE) -> None:
    """What a check leaves behind: the last page, and (first page) the baseline."""
    stores = PageStores.under(platform.settings.data_dir)
    with platform.db.session() as s:
        site = s.get(Website, site_id)
        assert site is not None
        site.latest_sha256 = stores.latest.put(site.uid, body)
        service.adopt_first_page(s, website=site, stores=stores, now=datetime.now(UTC))


def test_officer_registers_and_manages_their_ministrys_site(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    created = client.post("/api/v1/websites", json=SITE)
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["availability"] == "unknown" and site["expectations"]["failures_before_alert"] == 3
    assert [s["id"] for s in client.get("/api/v1/websites").json()] == [site["id"]]
    changed = client.patch(f"/api/v1/websites/{site['id']}", json={"interval_seconds": 60, "name": "Portal"})
    assert changed.status_code == 200 and changed.json()["interval_seconds"] == 60
    paused = client.patch(f"/api/v1/websites/{site['id']}", json={"enabled": False, "reason": "maintenance"})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    assert client.post(f"/api/v1/websites/{site['id']}/check").status_code == 202
    gone = client.request("DELETE", f"/api/v1/websites/{site['id']}", json={"reason": "moved to a new host"})
    assert gone.status_code == 204
    assert client.get(f"/api/v1/websites/{site['id']}").status_code == 404
    with platform.db.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "website"))]
        changes = [
            m.payload["change"] for m in s.scalars(select(OutboxMessage)) if m.subject == subjects.WEBSITES_CHANGED
        ]
    assert actions == ["website.create", "website.update", "website.update", "website.check", "website.delete"]
    assert changes == ["created", "updated", "updated", "check", "deleted"]


def test_private_addresses_only_for_the_centre(client: TestClient) -> None:
    login(client, "org_officer-mof")
    intranet = {**SITE, "url": "http://10.1.2.3/", "allow_private": True}
    assert client.post("/api/v1/websites", json=intranet).status_code == 403
    site = client.post("/api/v1/websites", json=SITE).json()
    assert client.patch(f"/api/v1/websites/{site['id']}", json={"allow_private": True}).status_code == 403
    login(client, "national_analyst-ncc")
    assert client.post("/api/v1/websites", json=intranet).status_code == 201


def test_invalid_sites_are_refused_with_the_field(client: TestClient) -> None:
    login(client, "admin-ncc")
    for bad, where in (
        ({**SITE, "url": "ftp://x.example/"}, "url"),
        ({**SITE, "url": "https://user:pw@x.example/"}, "url"),
        ({**SITE, "org_id": "nope"}, "org_id"),
        ({**SITE, "content": {"ignore_selectors": ["div[[["]}}, "content"),
        ({**SITE, "interval_seconds": 1}, "interval_seconds"),
    ):
        response = client.post("/api/v1/websites", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert where in response.text


def test_roles_and_visibility(client: TestClient) -> None:
    login(client, "admin-ncc")
    client.post("/api/v1/websites", json=SITE)
    client.post("/api/v1/websites", json={**SITE, "org_id": "mofa", "url": "https://www.mofa.example/"})
    assert len(client.get("/api/v1/websites").json()) == 2
    assert [s["org_id"] for s in client.get("/api/v1/websites", params={"org": "mofa"}).json()] == ["mofa"]
    login(client, "responder-mof")
    assert [s["org_id"] for s in client.get("/api/v1/websites").json()] == ["mof"]
    assert client.post("/api/v1/websites", json=SITE).status_code == 403
    login(client, "trainer-mof")
    assert client.get("/api/v1/websites").status_code == 403


def test_approve_restore_bundle_and_snapshot_download(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json=SITE).json()
    base = f"/api/v1/websites/{site['id']}"
    assert client.post(f"{base}/approve", json={"reason": "first look"}).status_code == 409  # nothing fetched yet
    assert client.get(f"{base}/restore-bundle").status_code == 404
    fetched(platform, site["id"])
    detail = client.get(base).json()
    assert detail["baseline"]["approved_by"] == "system" and detail["snapshots"][0]["kind"] == "known_good"
    sha = detail["snapshots"][0]["html_sha256"]

    bundle = client.get(f"{base}/restore-bundle")
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/gzip"
    assert "sandbox" in bundle.headers["content-security-policy"]
    with tarfile.open(fileobj=io.BytesIO(bundle.content), mode="r:gz") as tar:
        assert set(tar.getnames()) == {"index.html", "MANIFEST", "snapshot.json", "approval.json"}
        index = tar.extractfile("index.html")
        assert index is not None and index.read() == PAGE

    page = client.get(f"{base}/snapshots/{sha}")
    assert page.status_code == 200 and page.content == PAGE
    assert page.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert page.headers["content-disposition"].startswith("attachment")
    assert client.get(f"{base}/snapshots/{'0' * 64}").status_code == 404

    approved = client.post(f"{base}/approve", json={"reason": "new design"})
    assert approved.status_code == 200 and approved.json()["requested_by"] == "org_officer-mof"
    first_snapshot = detail["snapshots"][0]["id"]
    back = client.post(f"{base}/approve", json={"snapshot_id": first_snapshot, "reason": "roll back"})
    assert back.status_code == 200 and back.json()["snapshot_id"] == first_snapshot
    with platform.db.session() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "website"))]
    assert actions[-4:] == ["website.approve", "website.restore_bundle", "website.approve", "website.rebaseline"]


def test_tampered_snapshot_is_refused(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json=SITE).json()
    fetched(platform, site["id"])
    sha = client.get(f"/api/v1/websites/{site['id']}").json()["snapshots"][0]["html_sha256"]
    PageStores.under(platform.settings.data_dir).snapshots.path_of(sha).write_bytes(b"<h1>Hacked</h1>")
    response = client.get(f"/api/v1/websites/{site['id']}/snapshots/{sha}")
    assert response.status_code == 409 and "Hacked" not in response.text


def test_checks_history(client: TestClient) -> None:
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json=SITE).json()
    body = client.get(f"/api/v1/websites/{site['id']}/checks").json()
    assert body == {"uptime_24h": None, "uptime_7d": None, "latency": [], "items": []}
