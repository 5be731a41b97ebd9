"""Approving a baseline through the API: a reason always; a changed or defaced page needs a confirmation and a
second person of the national centre before it replaces the known-good copy the watch and responders rely on.

Real checks of a real loopback site by the platform's watch, a real database, the real app.
"""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.alerts.models import Alert
from mamori.audit.models import AuditEntry
from mamori.platform import Platform
from mamori.websites import service
from mamori.websites.checker import Checker
from mamori.websites.models import Website, WebsiteApproval, WebsiteBaseline
from mamori.websites.results import CheckLimits
from mamori.websites.schemas import WebsiteIn
from mamori.workers.websites import Watch
from tests.conftest import login
from tests.websites.farm import SiteFarm
from tests.websites.pages import ministry_page

GOOD = ministry_page()
HACKED = ministry_page(
    title="HACKED BY CYBER GHOST TEAM", news=[("HACKED BY CYBER GHOST TEAM", "Your security is weak")]
)
HACKED_AGAIN = (
    "<html><head><title>HACKED BY CYBER GHOST TEAM</title></head><body style='background:black'>"
    "<h1>HACKED BY CYBER GHOST TEAM</h1><marquee>We are back</marquee></body></html>"
)


@pytest.fixture()
def farm() -> Iterator[SiteFarm]:
    with SiteFarm() as f:
        yield f


def check(platform: Platform, site_id: int) -> None:
    """One check by the platform's own watch: check row, verdict, alerts, first-page baseline."""

    async def run() -> None:
        watch = Watch(platform, checker=Checker(limits=CheckLimits(record_dns=False)))
        await watch.check_now(site_id)
        await watch.checker.aclose()

    asyncio.run(run())


def defaced_site(platform: Platform, farm: SiteFarm) -> int:
    """A mof site whose first page (the baseline) was good and whose current page is defaced."""
    farm.set("/", GOOD)
    with platform.db.session() as s:
        data = WebsiteIn(org_id="mof", name="Finance portal", url=farm.url("/"), allow_private=True)
        site_id = service.create(s, principal=None, data=data).id
    check(platform, site_id)
    farm.set("/", HACKED)
    check(platform, site_id)
    with platform.db.session() as s:
        site = s.get(Website, site_id)
        assert site is not None and site.integrity == "defaced"
    return site_id


def bundle(client: TestClient, site_id: int) -> dict[str, bytes]:
    response = client.get(f"/api/v1/websites/{site_id}/restore-bundle")
    assert response.status_code == 200, response.text
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m) for m in tar.getmembers()}
        return {name: f.read() for name, f in files.items() if f is not None}


def state(platform: Platform, site_id: int) -> tuple[Any, ...]:
    """Everything an approval could change."""
    with platform.db.session() as s:
        baselines = s.execute(
            select(WebsiteBaseline.id, WebsiteBaseline.snapshot_id).where(WebsiteBaseline.website_id == site_id)
        ).all()
        approvals = s.execute(select(WebsiteApproval.id, WebsiteApproval.status)).all()
        audited = s.scalar(select(func.count()).where(AuditEntry.action.like("website.approv%")))
        return baselines, approvals, audited


def defacement_alerts(platform: Platform) -> int:
    with platform.db.session() as s:
        return int(s.scalar(select(func.count()).where(Alert.rule_id == "website.defaced")) or 0)


def integrity(platform: Platform, site_id: int) -> str:
    with platform.db.session() as s:
        site = s.get(Website, site_id)
        assert site is not None
        return site.integrity


def test_every_approval_needs_a_reason_or_changes_nothing(
    client: TestClient, platform: Platform, farm: SiteFarm
) -> None:
    farm.set("/", GOOD)
    login(client, "org_officer-mof")
    site = client.post("/api/v1/websites", json={"org_id": "mof", "name": "x", "url": farm.url("/")}).json()
    with platform.db.session() as s:  # an officer may not allow loopback; the test's site lives there
        row = s.get(Website, site["id"])
        assert row is not None
        row.allow_private = True
    check(platform, site["id"])
    check(platform, site["id"])  # second check: the verdict says the page matches its baseline
    base = f"/api/v1/websites/{site['id']}"
    known_good = client.get(base).json()["snapshots"][0]["id"]
    before = state(platform, site["id"])
    for body in (
        {},
        {"reason": ""},
        {"reason": "   \n"},
        {"snapshot_id": known_good},
        {"snapshot_id": known_good, "reason": " "},
    ):
        response = client.post(f"{base}/approve", json=body)
        assert response.status_code == 422, (body, response.text)
        assert "reason" in response.text
    assert state(platform, site["id"]) == before
    done = client.post(f"{base}/approve", json={"reason": "reviewed the homepage"})
    assert done.status_code == 200 and done.json()["status"] == "confirmed" and done.json()["verdict"] == "ok"
    assert client.get(base).json()["baseline"]["approval_id"] == done.json()["id"]


def test_a_defaced_page_needs_confirmation_then_a_second_national_person(
    client: TestClient, platform: Platform, farm: SiteFarm
) -> None:
    site_id = defaced_site(platform, farm)
    base = f"/api/v1/websites/{site_id}"
    login(client, "org_officer-mof")
    before = state(platform, site_id)
    first_baseline = client.get(base).json()["baseline"]

    # One click with a reason is no longer enough: the verdict must be confirmed explicitly.
    refused = client.post(f"{base}/approve", json={"reason": "new design"})
    assert refused.status_code == 422 and refused.json()["where"] == "confirm_changed"
    assert "DEFACED" in refused.json()["message"]
    assert state(platform, site_id) == before

    asked = client.post(f"{base}/approve", json={"reason": "new design", "confirm_changed": True})
    assert asked.status_code == 202, asked.text
    pending = asked.json()
    assert pending["status"] == "pending" and pending["verdict"] == "defaced" and pending["verdict_score"] > 0.5
    assert pending["previous_snapshot_id"] == first_baseline["snapshot_id"]
    assert client.post(f"{base}/approve", json={"reason": "again", "confirm_changed": True}).status_code == 409

    # While pending: same baseline, the restore bundle still hands out the old known-good page ...
    detail = client.get(base).json()
    assert detail["baseline"] == first_baseline and detail["pending_approval"]["id"] == pending["id"]
    files = bundle(client, site_id)
    assert files["index.html"] == GOOD.encode() and b"HACKED" not in files["index.html"]
    # ... the proposed page is no way round it (it is not known-good) ...
    sneak = client.post(f"{base}/approve", json={"snapshot_id": pending["snapshot_id"], "reason": "roll forward"})
    assert sneak.status_code == 409
    # ... and the watch still judges against the good page: the site recovers, and the next defacement alerts.
    farm.set("/", GOOD)
    check(platform, site_id)
    assert integrity(platform, site_id) == "ok"
    farm.set("/", HACKED_AGAIN)
    check(platform, site_id)
    assert integrity(platform, site_id) == "defaced"
    assert defacement_alerts(platform) == 2

    # Not the ministry officer, not another ministry, not without a reason.
    decision = f"{base}/approvals/{pending['id']}/confirm"
    assert client.post(decision, json={"reason": "mine"}).status_code == 403
    login(client, "org_officer-mofa")
    assert client.post(decision, json={"reason": "theirs"}).status_code == 404
    assert client.get(f"{base}/approvals").status_code == 404
    login(client, "national_analyst-ncc")
    assert client.post(decision, json={"reason": " "}).status_code == 422
    assert client.post(decision, json={}).status_code == 422
    assert client.get(base).json()["baseline"] == first_baseline

    confirmed = client.post(decision, json={"reason": "called the ministry: it is their new campaign"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["decided_by"] == "national_analyst-ncc"
    assert client.post(decision, json={"reason": "twice"}).status_code == 409
    now_in_force = client.get(base).json()["baseline"]
    assert now_in_force["approval_id"] == pending["id"] and now_in_force["snapshot_id"] == pending["snapshot_id"]

    files = bundle(client, site_id)
    assert files["index.html"] == HACKED.encode()  # what was approved, deliberately, by two people
    approval = json.loads(files["approval.json"])
    assert approval["id"] == pending["id"] and approval["requested_by"] == "org_officer-mof"
    assert approval["reason"] == "new design" and approval["confirmed_by"] == "national_analyst-ncc"
    assert approval["requested_at"] and approval["confirmed_at"]
    assert json.loads(files["snapshot.json"])["approval"] == approval
    assert "  approval.json" in files["MANIFEST"].decode()

    with platform.db.session() as s:
        entries = {
            a.action: a.details
            for a in s.scalars(select(AuditEntry).where(AuditEntry.action.like("website.approval_%")))
        }
    assert set(entries) == {"website.approval_requested", "website.approval_confirmed"}
    for details in entries.values():  # both pages kept and named
        assert details["approval_id"] == pending["id"] and details["verdict"] == "defaced"
        assert details["sha256"] and details["previous_sha256"] and details["sha256"] != details["previous_sha256"]
    assert entries["website.approval_confirmed"]["decision_reason"].startswith("called the ministry")


def test_the_requester_never_confirms_their_own_and_a_rejection_changes_nothing(
    client: TestClient, platform: Platform, farm: SiteFarm
) -> None:
    site_id = defaced_site(platform, farm)
    base = f"/api/v1/websites/{site_id}"
    login(client, "national_analyst-ncc")
    asked = client.post(f"{base}/approve", json={"reason": "looks fine", "confirm_changed": True}).json()
    decision = f"{base}/approvals/{asked['id']}"
    assert client.post(f"{decision}/confirm", json={"reason": "yes, me"}).status_code == 403
    assert client.post(f"{decision}/reject", json={"reason": "no, me"}).status_code == 403
    before = state(platform, site_id)[0]
    login(client, "admin-ncc")
    rejected = client.post(f"{decision}/reject", json={"reason": "this is the defacement"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert state(platform, site_id)[0] == before
    assert bundle(client, site_id)["index.html"] == GOOD.encode()
    assert client.post(f"{decision}/confirm", json={"reason": "changed my mind"}).status_code == 409
    listed = client.get(f"{base}/approvals", params={"status": "rejected"}).json()
    assert [a["id"] for a in listed] == [asked["id"]]


def test_single_approval_setting_skips_the_second_person_only(
    client: TestClient, platform: Platform, farm: SiteFarm
) -> None:
    platform.settings = platform.settings.model_copy(update={"baseline_single_approval": True})
    site_id = defaced_site(platform, farm)
    base = f"/api/v1/websites/{site_id}"
    login(client, "org_officer-mof")
    assert client.post(f"{base}/approve", json={"reason": "new design"}).status_code == 422
    assert client.post(f"{base}/approve", json={"confirm_changed": True}).status_code == 422
    done = client.post(f"{base}/approve", json={"reason": "new design", "confirm_changed": True})
    assert done.status_code == 200 and done.json()["status"] == "confirmed" and done.json()["decided_by"] is None
    assert client.get(base).json()["baseline"]["approval_id"] == done.json()["id"]
    approval = json.loads(bundle(client, site_id)["approval.json"])
    assert approval["id"] == done.json()["id"] and approval["reason"] == "new design"
    with platform.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "website.approve")).all()[-1]
    assert entry.actor == "org_officer-mof" and entry.details["single_approval"] is True
    assert entry.details["verdict"] == "defaced" and entry.details["previous_sha256"] != entry.details["sha256"]
