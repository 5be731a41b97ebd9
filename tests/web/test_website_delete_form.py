"""Deleting a website in the console over HTTP: the Delete button only asks (a page naming the site and saying
what goes with it); the confirmed form without a reason is a clear 422 and the site stays; with a reason it is
deleted and the audit entry keeps the reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from mamori.audit.models import AuditEntry
from mamori.platform import Platform
from mamori.websites import service
from mamori.websites.models import Website
from mamori.websites.schemas import WebsiteIn
from tests.conftest import login


def plant_site(platform: Platform, org: str = "mof") -> int:
    with platform.db.session() as s:
        site = service.create(
            s, principal=None, data=WebsiteIn(org_id=org, name="Tax portal", url=f"https://{org}.example/tax")
        )
        s.flush()
        return site.id


def exists(platform: Platform, site_id: int) -> bool:
    with platform.db.session() as s:
        return s.get(Website, site_id) is not None


def test_deleting_a_website_asks_first_and_needs_a_reason(client: TestClient, platform: Platform) -> None:
    site_id = plant_site(platform)
    login(client, "org_officer-mof")
    detail = client.get(f"/websites/{site_id}")
    assert detail.status_code == 200 and f'action="/websites/{site_id}/delete"' in detail.text
    url = f"/websites/{site_id}/delete"
    asked = client.post(url)
    assert asked.status_code == 200 and "Delete Tax portal?" in asked.text and "https://mof.example/tax" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    assert exists(platform, site_id)  # the button alone deletes nothing
    for reason in ("", "  "):
        no_reason = client.post(url, data={"confirmed": "yes", "reason": reason})
        assert no_reason.status_code == 422 and "deleting a website needs a reason" in no_reason.text
    assert exists(platform, site_id)
    done = client.post(url, data={"confirmed": "yes", "reason": "Portal moved to e-tax"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/websites"
    assert not exists(platform, site_id)
    with platform.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "website.delete"))
        assert entry is not None and entry.details["reason"] == "Portal moved to e-tax"


def test_only_those_who_may_manage_the_site_are_asked(client: TestClient, platform: Platform) -> None:
    site_id = plant_site(platform)
    login(client, "org_officer-mofa")
    assert client.post(f"/websites/{site_id}/delete").status_code == 404
    refused = client.post(f"/websites/{site_id}/delete", data={"confirmed": "yes", "reason": "mine now"})
    assert refused.status_code == 404 and exists(platform, site_id)
    login(client, "auditor-mof")  # sees the site, may not change it: no page offering to delete it
    asked = client.post(f"/websites/{site_id}/delete")
    assert asked.status_code == 403 and "confirmed" not in asked.text
