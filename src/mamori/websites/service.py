"""Websites service: the registry, baselines and reading of history. Tenancy is enforced here, never in views.

Functions that take a ``principal`` check it; the few that do not (``record_check``, ``adopt_first_page``,
``enabled``) are for the watch worker, which acts for the platform itself. Every change is audited in the
caller's transaction and announced on ``mamori.websites.changed`` through the outbox, so a running watch
picks up a new or changed site at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from mamori.accounts.enums import Role
from mamori.accounts.models import Organisation
from mamori.accounts.principal import Principal
from mamori.audit import service as audit
from mamori.bus import subjects
from mamori.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.i18n import _
from mamori.storage.db import utcnow
from mamori.storage.outbox import enqueue
from mamori.websites.enums import SnapshotKind, SnapshotStatus
from mamori.websites.models import Website, WebsiteBaseline, WebsiteCheck, WebsiteSnapshot
from mamori.websites.schemas import ApproveIn, SiteExpectations, WebsiteIn, WebsiteUpdate
from mamori.websites.storage import PageStores

SYSTEM = "system"
# Intranet sites point the watch at private (and loopback) addresses: the centre's own network included.
# Only the centre's own staff may allow that, never a ministry officer.
PRIVATE_ROLES = frozenset({Role.ADMIN, Role.NATIONAL_ANALYST})
_EXPECTATION_FIELDS = (
    "timeout_seconds",
    "expected_status",
    "failures_before_alert",
    "dns",
    "tls",
    "content",
    "allowed_domains",
)


def expectations_of(site: Website) -> SiteExpectations:
    """The core's view of a registered site (``site_id`` is the site's never-reused uid)."""
    return SiteExpectations(
        site_id=site.uid,
        org=site.org_id,
        url=site.url,
        interval_seconds=site.interval_seconds,
        allow_private=site.allow_private,
        **site.expectations,
    )


def _validated(uid: str, org_id: str, fields: dict[str, Any]) -> SiteExpectations:
    try:
        return SiteExpectations(site_id=uid, org=org_id, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        raise ValidationFailed(first["msg"], where=where) from None


def _expectation_json(expect: SiteExpectations) -> dict[str, Any]:
    return expect.model_dump(mode="json", include=set(_EXPECTATION_FIELDS))


def _announce(session: Session, site: Website, change: str) -> None:
    enqueue(
        session, subject=subjects.WEBSITES_CHANGED, payload={"site_id": site.id, "org": site.org_id, "change": change}
    )


def _require_private_right(principal: Principal | None) -> None:
    if principal is not None and not principal.national_roles() & PRIVATE_ROLES:
        raise PermissionDenied("only the national centre's analysts and administrators allow private addresses")


# --- reading -------------------------------------------------------------------------------------------


def _visible(principal: Principal) -> Select[Website]:
    query = select(Website)
    orgs = principal.require_any("websites.view")
    return query if orgs is None else query.where(Website.org_id.in_(orgs))


def list_(session: Session, *, principal: Principal, org: str | None = None) -> Sequence[Website]:
    query = _visible(principal)
    if org:
        query = query.where(Website.org_id == org)
    return session.scalars(query.order_by(Website.org_id, Website.name, Website.id)).all()


def get(session: Session, *, principal: Principal, site_id: int) -> Website:
    site = session.get(Website, site_id)
    if site is None or not principal.can("websites.view", site.org_id):
        raise NotFound(f"website {site_id} not found")
    return site


def checks(
    session: Session, *, principal: Principal, site_id: int, limit: int = 100, since: datetime | None = None
) -> Sequence[WebsiteCheck]:
    """Newest first."""
    site = get(session, principal=principal, site_id=site_id)
    query = select(WebsiteCheck).where(WebsiteCheck.website_id == site.id)
    if since is not None:
        query = query.where(WebsiteCheck.checked_at >= since)
    return session.scalars(query.order_by(WebsiteCheck.checked_at.desc(), WebsiteCheck.id.desc()).limit(limit)).all()


def snapshots_of(session: Session, *, principal: Principal, site_id: int) -> Sequence[WebsiteSnapshot]:
    site = get(session, principal=principal, site_id=site_id)
    query = select(WebsiteSnapshot).where(WebsiteSnapshot.website_id == site.id)
    return session.scalars(query.order_by(WebsiteSnapshot.id.desc()).limit(200)).all()


def baseline_of(session: Session, *, website: Website) -> WebsiteBaseline | None:
    """The approval in force: the newest."""
    query = select(WebsiteBaseline).where(WebsiteBaseline.website_id == website.id)
    return session.scalar(query.order_by(WebsiteBaseline.id.desc()).limit(1))


def baselines(session: Session, *, principal: Principal, site_id: int) -> Sequence[WebsiteBaseline]:
    site = get(session, principal=principal, site_id=site_id)
    query = select(WebsiteBaseline).where(WebsiteBaseline.website_id == site.id)
    return session.scalars(query.order_by(WebsiteBaseline.id.desc()).limit(50)).all()


# --- changing the registry -----------------------------------------------------------------------------


def create(session: Session, *, principal: Principal | None, data: WebsiteIn) -> Website:
    """``principal=None`` is the bootstrap path (demo, CLI) acting as the platform."""
    if principal is not None:
        principal.require("websites.manage", data.org_id)
    if session.get(Organisation, data.org_id) is None:
        raise ValidationFailed(f"no organisation {data.org_id!r}", where="org_id")
    if data.allow_private:
        _require_private_right(principal)
    uid = secrets.token_hex(16)
    expect = _validated(uid, data.org_id, data.model_dump(exclude={"org_id", "name", "enabled"}))
    site = Website(
        uid=uid,
        org_id=data.org_id,
        name=data.name,
        url=expect.url,
        interval_seconds=expect.interval_seconds,
        expectations=_expectation_json(expect),
        allow_private=expect.allow_private,
        enabled=data.enabled,
        created_by=principal.name if principal else SYSTEM,
        watch_state={},
    )
    session.add(site)
    session.flush()
    audit.record(
        session,
        actor=site.created_by,
        action="website.create",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"name": site.name, "url": site.url, "allow_private": site.allow_private},
    )
    _announce(session, site, "created")
    return site


def update(session: Session, *, principal: Principal, site_id: int, data: WebsiteUpdate) -> Website:
    site = get(session, principal=principal, site_id=site_id)
    principal.require("websites.manage", site.org_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if changes.get("allow_private") and not site.allow_private:
        _require_private_right(principal)
    current = expectations_of(site).model_dump(mode="json", exclude={"site_id", "org"})
    expect = _validated(
        site.uid, site.org_id, {**current, **{k: v for k, v in changes.items() if k not in ("name", "enabled")}}
    )
    before = {k: v for k, v in current.items() if k in changes}
    site.url, site.interval_seconds, site.allow_private = expect.url, expect.interval_seconds, expect.allow_private
    site.expectations = _expectation_json(expect)
    site.name = data.name or site.name
    site.enabled = site.enabled if data.enabled is None else data.enabled
    site.updated_at = utcnow()
    audit.record(
        session,
        actor=principal.name,
        action="website.update",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"changed": changes, "before": before},
    )
    _announce(session, site, "updated")
    return site


def get_to_manage(session: Session, *, principal: Principal, site_id: int) -> Website:
    """A site the caller may change (e.g. to show the confirmation page before deleting it)."""
    site = get(session, principal=principal, site_id=site_id)
    principal.require("websites.manage", site.org_id)
    return site


def delete(session: Session, *, principal: Principal, site_id: int, reason: str | None) -> None:
    """Checks, snapshot rows and approvals go with the site; the audit log and stored blobs remain.
    Deleting ends the watch for good, so it needs a reason, kept in the audit entry."""
    site = get_to_manage(session, principal=principal, site_id=site_id)
    why = audit.require_reason(reason, doing=_("deleting a website"))
    audit.record(
        session,
        actor=principal.name,
        action="website.delete",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"name": site.name, "url": site.url, "reason": why},
    )
    _announce(session, site, "deleted")
    session.delete(site)


def request_check(session: Session, *, principal: Principal, site_id: int) -> Website:
    """Ask the running watch to check the site now (it answers through the outbox, not in this request)."""
    site = get(session, principal=principal, site_id=site_id)
    principal.require("websites.manage", site.org_id)
    audit.record(
        session,
        actor=principal.name,
        action="website.check",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
    )
    _announce(session, site, "check")
    return site


# --- baselines -----------------------------------------------------------------------------------------


def approve(
    session: Session, *, principal: Principal, site_id: int, data: ApproveIn, stores: PageStores, now: datetime
) -> WebsiteBaseline:
    """Approve the last fetched page as the baseline, or go back to an earlier known-good snapshot."""
    site = get(session, principal=principal, site_id=site_id)
    principal.require("websites.approve", site.org_id)
    if data.snapshot_id is not None:
        snapshot = _known_good(session, site, data.snapshot_id)
    else:
        snapshot = _keep_latest(session, site, stores, now)
    return _approve(session, site, snapshot, actor=principal.name, note=data.note, rebaseline=data.snapshot_id)


def adopt_first_page(session: Session, *, website: Website, stores: PageStores, now: datetime) -> WebsiteBaseline:
    """A new site's first good page becomes its baseline (audited as the system's, shown for review)."""
    snapshot = _keep_latest(session, website, stores, now)
    return _approve(session, website, snapshot, actor=SYSTEM, note="first page fetched; review it", rebaseline=None)


def _known_good(session: Session, site: Website, snapshot_id: int) -> WebsiteSnapshot:
    snapshot = session.get(WebsiteSnapshot, snapshot_id)
    if snapshot is None or snapshot.website_id != site.id:
        raise NotFound(f"snapshot {snapshot_id} not found")
    if snapshot.kind != SnapshotKind.KNOWN_GOOD:
        raise Conflict(f"snapshot {snapshot_id} is {snapshot.kind}; only known-good snapshots become baselines")
    return snapshot


def _keep_latest(session: Session, site: Website, stores: PageStores, now: datetime) -> WebsiteSnapshot:
    if not site.latest_sha256:
        raise Conflict("no page has been fetched from this site yet")
    body = stores.latest.get(site.uid, site.latest_sha256)
    stored = stores.snapshots.save(
        site_id=site.uid, url=site.url, html=body, taken_at=now, status=SnapshotStatus.KNOWN_GOOD
    )
    return _snapshot_row(session, site, stored.id, stored.html_sha256, SnapshotKind.KNOWN_GOOD, now)


def _snapshot_row(
    session: Session, site: Website, store_id: str, sha256: str, kind: SnapshotKind, at: datetime
) -> WebsiteSnapshot:
    row = WebsiteSnapshot(
        website_id=site.id, org_id=site.org_id, store_id=store_id, html_sha256=sha256, kind=kind.value, taken_at=at
    )
    session.add(row)
    session.flush()
    return row


def _approve(
    session: Session, site: Website, snapshot: WebsiteSnapshot, *, actor: str, note: str, rebaseline: int | None
) -> WebsiteBaseline:
    baseline = WebsiteBaseline(
        website_id=site.id, org_id=site.org_id, snapshot_id=snapshot.id, approved_by=actor, note=note, volatile_paths=[]
    )
    session.add(baseline)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="website.rebaseline" if rebaseline else "website.approve",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"baseline_id": baseline.id, "snapshot_id": snapshot.id, "sha256": snapshot.html_sha256, "note": note},
    )
    _announce(session, site, "check")  # compare with the new baseline at once: its alerts resolve now
    return baseline


# --- downloads -----------------------------------------------------------------------------------------


def restore_bundle(session: Session, *, principal: Principal, site_id: int, stores: PageStores) -> tuple[str, bytes]:
    """A tar.gz of the baseline in force (the last known-good page), for a responder to restore from."""
    site = get(session, principal=principal, site_id=site_id)
    baseline = baseline_of(session, website=site)
    if baseline is None:
        raise NotFound("this site has no known-good snapshot yet")
    snapshot = session.get(WebsiteSnapshot, baseline.snapshot_id)
    assert snapshot is not None
    data = stores.snapshots.restore_bundle(stores.snapshots.get_snapshot(site.uid, snapshot.store_id))
    audit.record(
        session,
        actor=principal.name,
        action="website.restore_bundle",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"snapshot_id": snapshot.id, "sha256": snapshot.html_sha256},
    )
    return f"website-{site.id}-{snapshot.html_sha256[:12]}.tar.gz", data


def snapshot_bytes(session: Session, *, principal: Principal, site_id: int, sha256: str, stores: PageStores) -> bytes:
    """A kept page of this site by its hash; the store re-verifies the bytes against the hash."""
    site = get(session, principal=principal, site_id=site_id)
    owned = select(WebsiteSnapshot.id).where(
        WebsiteSnapshot.website_id == site.id, WebsiteSnapshot.html_sha256 == sha256
    )
    if session.scalar(owned.limit(1)) is None:
        raise NotFound("no such snapshot of this site")
    return stores.snapshots.get(sha256)


def current_page(session: Session, *, principal: Principal, site_id: int, stores: PageStores) -> bytes | None:
    """The last page fetched, if any (hash-verified)."""
    site = get(session, principal=principal, site_id=site_id)
    if not site.latest_sha256:
        return None
    try:
        return stores.latest.get(site.uid, site.latest_sha256)
    except (NotFound, Conflict):
        return None


def baseline_page(session: Session, *, principal: Principal, site_id: int, stores: PageStores) -> bytes | None:
    site = get(session, principal=principal, site_id=site_id)
    baseline = baseline_of(session, website=site)
    if baseline is None:
        return None
    snapshot = session.get(WebsiteSnapshot, baseline.snapshot_id)
    return None if snapshot is None else stores.snapshots.get(snapshot.html_sha256)
