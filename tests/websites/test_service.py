"""The websites service with real principals on a real database: who sees, changes and approves what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from mamori.accounts import service as accounts
from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.audit.models import AuditEntry
from mamori.core.errors import NotFound, PermissionDenied, ValidationFailed
from mamori.platform import Platform
from mamori.websites import service
from mamori.websites.models import WebsiteBaseline, WebsiteCheck
from mamori.websites.schemas import ApproveIn, WebsiteIn, WebsiteUpdate
from mamori.websites.storage import PageStores


def who(platform: Platform, username: str) -> Principal:
    with platform.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return accounts.principal_for(s, user)


def site_of(platform: Platform, org: str) -> int:
    with platform.db.session() as s:
        data = WebsiteIn(org_id=org, name=f"{org} portal", url=f"https://www.{org}.example/")
        return service.create(s, principal=None, data=data).id


def test_visibility_follows_the_organisation(platform: Platform) -> None:
    mof, mofa = site_of(platform, "mof"), site_of(platform, "mofa")
    with platform.db.session() as s:
        officer = who(platform, "org_officer-mof")
        assert [w.id for w in service.list_(s, principal=officer)] == [mof]
        with pytest.raises(NotFound):  # another ministry's site does not exist for this caller
            service.get(s, principal=officer, site_id=mofa)
        analyst = who(platform, "national_analyst-ncc")
        assert {w.id for w in service.list_(s, principal=analyst)} == {mof, mofa}
        assert [w.id for w in service.list_(s, principal=analyst, org="mofa")] == [mofa]
        with pytest.raises(PermissionDenied):
            service.list_(s, principal=who(platform, "trainer-ncc"))


def test_who_may_change_and_approve(platform: Platform) -> None:
    mof = site_of(platform, "mof")
    with platform.db.session() as s:
        with pytest.raises(PermissionDenied):
            service.create(
                s,
                principal=who(platform, "org_officer-mof"),
                data=WebsiteIn(org_id="mofa", name="x", url="https://x.example/"),
            )
        for username in ("responder-mof", "auditor-ncc"):
            with pytest.raises(PermissionDenied):
                service.update(s, principal=who(platform, username), site_id=mof, data=WebsiteUpdate(enabled=False))
            with pytest.raises(PermissionDenied):
                service.approve(
                    s,
                    principal=who(platform, username),
                    site_id=mof,
                    data=ApproveIn(reason="looks right"),
                    stores=PageStores.under(platform.settings.data_dir),
                    now=datetime.now(UTC),
                )


def test_update_is_validated_and_audited_with_before_and_after(platform: Platform) -> None:
    mof = site_of(platform, "mof")
    officer = who(platform, "org_officer-mof")
    with platform.db.session() as s, pytest.raises(ValidationFailed):
        service.update(s, principal=officer, site_id=mof, data=WebsiteUpdate(url="gopher://x.example/"))
    with platform.db.session() as s:
        site = service.update(
            s, principal=officer, site_id=mof, data=WebsiteUpdate(interval_seconds=60, failures_before_alert=5)
        )
        assert site.interval_seconds == 60 and service.expectations_of(site).failures_before_alert == 5
    with platform.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "website.update"))
        assert entry is not None and entry.actor == "org_officer-mof"
        assert entry.details["changed"] == {"interval_seconds": 60, "failures_before_alert": 5}
        assert entry.details["before"] == {"interval_seconds": 300, "failures_before_alert": 3}


def test_delete_takes_checks_and_approvals_with_it(platform: Platform) -> None:
    mof = site_of(platform, "mof")
    stores = PageStores.under(platform.settings.data_dir)
    with platform.db.session() as s:
        site = service.get(s, principal=who(platform, "admin-ncc"), site_id=mof)
        site.latest_sha256 = stores.latest.put(site.uid, b"<h1>ok</h1>")
        s.add(WebsiteCheck(website_id=mof, org_id="mof", checked_at=datetime.now(UTC), up=True, availability="up"))
        service.adopt_first_page(s, website=site, stores=stores, now=datetime.now(UTC))
    with platform.db.session() as s:
        service.delete(s, principal=who(platform, "org_officer-mof"), site_id=mof, reason="site retired")
    with platform.db.session() as s:
        assert s.scalar(select(func.count()).select_from(WebsiteCheck)) == 0
        assert s.scalar(select(func.count()).select_from(WebsiteBaseline)) == 0
        assert s.scalar(select(func.count()).where(AuditEntry.action == "website.delete")) == 1
