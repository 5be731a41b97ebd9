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
from mamori.accounts.principal import Principal
from mamori.accounts.service import org_id_of, org_slug
from mamori.audit import service as audit
from mamori.bus import subjects
from mamori.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.i18n import _
from mamori.storage.db import utcnow
from mamori.storage.outbox import enqueue
from mamori.websites import workflow
from mamori.websites.enums import ApprovalStatus, Integrity, SnapshotKind, SnapshotStatus
from mamori.websites.models import Website, WebsiteApproval, WebsiteBaseline, WebsiteCheck, WebsiteSnapshot
from mamori.websites.schemas import ApprovalDecisionIn, ApproveIn, SiteExpectations, WebsiteIn, WebsiteUpdate
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
        query = query.where(Website.org_id == org_slug(org))
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
    data = data.model_copy(update={"org_id": org_id_of(session, data.org_id, where="org_id")})
    if principal is not None:
        principal.require("websites.manage", data.org_id)
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
    changes = data.model_dump(exclude_unset=True, exclude={"reason"}, mode="json")
    details: dict[str, Any] = {}
    if data.enabled is False and site.enabled:  # pausing stops the watch as deleting does: it needs a reason
        details["reason"] = audit.require_reason(data.reason, doing=_("Pausing a website's watch"))
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
        details={"changed": changes, "before": before, **details},
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
    session: Session,
    *,
    principal: Principal,
    site_id: int,
    data: ApproveIn,
    stores: PageStores,
    now: datetime,
    single_approval: bool = False,
) -> WebsiteApproval:
    """Ask to make the last fetched page the baseline, or (``snapshot_id``) go back to a known-good snapshot.

    A clean page (or a known-good one) takes effect at once. A page the current verdict calls changed or
    defaced needs ``confirm_changed`` and then waits, pending, for a second person of the national centre
    (:func:`decide`), unless ``single_approval`` (``MAMORI_BASELINE_SINGLE_APPROVAL``) lets it take effect.
    """
    site = get(session, principal=principal, site_id=site_id)
    principal.require("websites.approve", site.org_id)
    reason = workflow.required_reason(data.reason)
    if data.snapshot_id is not None:
        snapshot = _known_good(session, site, data.snapshot_id)
        approval = _record(session, site, snapshot, actor=principal.name, reason=reason, rebaseline=True)
        _in_force(session, site, approval, snapshot, stores, action="website.rebaseline", actor=principal.name)
        return approval
    if not site.latest_sha256:
        raise Conflict(_("no page has been fetched from this site yet"))
    clean = not needs_confirmation(session, website=site)
    if not clean:
        workflow.require_confirmation(Integrity(site.integrity), confirmed=data.confirm_changed)
        _refuse_second_pending(session, site)
    waits = not clean and not single_approval
    snapshot = _keep_latest(session, site, stores, now, proposed=waits)
    approval = _record(session, site, snapshot, actor=principal.name, reason=reason, pending=waits)
    if waits:
        _audit_approval(session, approval, action="website.approval_requested", actor=principal.name)
    else:
        _in_force(
            session, site, approval, snapshot, stores, action="website.approve", actor=principal.name,
            single_approval=not clean,
        )  # fmt: skip
    return approval


def decide(
    session: Session,
    *,
    principal: Principal,
    site_id: int,
    approval_id: int,
    data: ApprovalDecisionIn,
    confirm: bool,
    stores: PageStores,
    now: datetime,
) -> WebsiteApproval:
    """A second person (national role, not the requester) confirms a pending approval, or rejects it."""
    site = get(session, principal=principal, site_id=site_id)
    approval = _approval_of(session, site, approval_id)
    workflow.require_decider(principal, approval)
    approval.decision_reason = workflow.required_reason(data.reason)
    approval.status = (ApprovalStatus.CONFIRMED if confirm else ApprovalStatus.REJECTED).value
    approval.decided_by, approval.decided_at = principal.name, now
    if not confirm:
        _audit_approval(session, approval, action="website.approval_rejected", actor=principal.name)
        return approval
    snapshot = session.get(WebsiteSnapshot, approval.snapshot_id)
    if snapshot is None:
        raise Conflict(_("the page of approval %(id)s is no longer kept", id=approval.id))
    _in_force(session, site, approval, snapshot, stores, action="website.approval_confirmed", actor=principal.name)
    return approval


def approvals(
    session: Session, *, principal: Principal, site_id: int, status: ApprovalStatus | None = None
) -> Sequence[WebsiteApproval]:
    """Newest first."""
    site = get(session, principal=principal, site_id=site_id)
    query = select(WebsiteApproval).where(WebsiteApproval.website_id == site.id)
    if status is not None:
        query = query.where(WebsiteApproval.status == status.value)
    return session.scalars(query.order_by(WebsiteApproval.id.desc()).limit(50)).all()


def get_approval(session: Session, *, principal: Principal, site_id: int, approval_id: int) -> WebsiteApproval:
    return _approval_of(session, get(session, principal=principal, site_id=site_id), approval_id)


def adopt_first_page(session: Session, *, website: Website, stores: PageStores, now: datetime) -> WebsiteBaseline:
    """A new site's first good page becomes its baseline (audited as the system's, shown for review)."""
    snapshot = _keep_latest(session, website, stores, now, proposed=False)
    approval = _record(session, website, snapshot, actor=SYSTEM, reason="first page fetched; review it")
    return _in_force(session, website, approval, snapshot, stores, action="website.approve", actor=SYSTEM)


def needs_confirmation(session: Session, *, website: Website) -> bool:
    """Approving the last fetched page now would need ``confirm_changed`` (and a second person)."""
    previous = _baseline_snapshot(session, website)
    same = previous is not None and previous.html_sha256 == website.latest_sha256
    return not workflow.is_clean(Integrity(website.integrity), same_as_baseline=same)


def _approval_of(session: Session, site: Website, approval_id: int) -> WebsiteApproval:
    row = session.get(WebsiteApproval, approval_id)
    if row is None or row.website_id != site.id:
        raise NotFound(_("approval %(id)s not found", id=approval_id))
    return row


def _refuse_second_pending(session: Session, site: Website) -> None:
    """One pending approval per site: the confirmer decides on one page, not on whichever came last."""
    waiting = session.scalar(
        select(WebsiteApproval.id).where(
            WebsiteApproval.website_id == site.id, WebsiteApproval.status == ApprovalStatus.PENDING.value
        )
    )
    if waiting is not None:
        raise Conflict(_("approval %(id)s of this site is already waiting for confirmation", id=waiting))


def _baseline_snapshot(session: Session, site: Website) -> WebsiteSnapshot | None:
    baseline = baseline_of(session, website=site)
    return None if baseline is None else session.get(WebsiteSnapshot, baseline.snapshot_id)


def _last_compared(session: Session, site: Website) -> WebsiteCheck | None:
    query = select(WebsiteCheck).where(WebsiteCheck.website_id == site.id, WebsiteCheck.score.is_not(None))
    return session.scalar(query.order_by(WebsiteCheck.checked_at.desc(), WebsiteCheck.id.desc()).limit(1))


def _record(
    session: Session,
    site: Website,
    snapshot: WebsiteSnapshot,
    *,
    actor: str,
    reason: str,
    rebaseline: bool = False,
    pending: bool = False,
) -> WebsiteApproval:
    """The approval as asked: the page, the baseline it replaces, and what the verdict said at that moment."""
    previous = _baseline_snapshot(session, site)
    check = _last_compared(session, site)
    row = WebsiteApproval(
        website_id=site.id,
        org_id=site.org_id,
        snapshot_id=snapshot.id,
        previous_snapshot_id=previous.id if previous else None,
        requested_by=actor,
        requested_at=utcnow(),
        reason=reason,
        verdict=site.integrity,
        verdict_score=check.score if check else None,
        verdict_reasons=list(check.reasons)[:20] if check else [],
        rebaseline=rebaseline,
        status=(ApprovalStatus.PENDING if pending else ApprovalStatus.CONFIRMED).value,
        decision_reason="",
    )
    session.add(row)
    session.flush()
    return row


def _in_force(
    session: Session,
    site: Website,
    approval: WebsiteApproval,
    snapshot: WebsiteSnapshot,
    stores: PageStores,
    *,
    action: str,
    actor: str,
    single_approval: bool = False,
) -> WebsiteBaseline:
    """The approved page becomes the baseline and the known-good copy restore bundles are made of."""
    if snapshot.kind != SnapshotKind.KNOWN_GOOD:
        stores.snapshots.mark(stores.snapshots.get_snapshot(site.uid, snapshot.store_id), SnapshotStatus.KNOWN_GOOD)
        snapshot.kind = SnapshotKind.KNOWN_GOOD.value
    baseline = WebsiteBaseline(
        website_id=site.id,
        org_id=site.org_id,
        snapshot_id=snapshot.id,
        approved_by=approval.requested_by,
        note=approval.reason,
        volatile_paths=[],
        approval_id=approval.id,
    )
    session.add(baseline)
    session.flush()
    _audit_approval(
        session, approval, action=action, actor=actor, baseline_id=baseline.id, single_approval=single_approval
    )
    _announce(session, site, "check")  # compare with the new baseline at once: its alerts resolve now
    return baseline


def _audit_approval(session: Session, approval: WebsiteApproval, *, action: str, actor: str, **extra: Any) -> None:
    """Both pages by id and hash, the verdict at the time, the reasons: enough to judge the approval later."""
    snapshot = session.get(WebsiteSnapshot, approval.snapshot_id)
    previous = session.get(WebsiteSnapshot, approval.previous_snapshot_id) if approval.previous_snapshot_id else None
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="website",
        object_id=approval.website_id,
        org_id=approval.org_id,
        details={
            "approval_id": approval.id,
            "status": approval.status,
            "requested_by": approval.requested_by,
            "reason": approval.reason,
            "decision_reason": approval.decision_reason,
            "verdict": approval.verdict,
            "verdict_score": approval.verdict_score,
            "snapshot_id": approval.snapshot_id,
            "sha256": snapshot.html_sha256 if snapshot else None,
            "previous_snapshot_id": approval.previous_snapshot_id,
            "previous_sha256": previous.html_sha256 if previous else None,
            **extra,
        },
    )


def _known_good(session: Session, site: Website, snapshot_id: int) -> WebsiteSnapshot:
    snapshot = session.get(WebsiteSnapshot, snapshot_id)
    if snapshot is None or snapshot.website_id != site.id:
        raise NotFound(f"snapshot {snapshot_id} not found")
    if snapshot.kind != SnapshotKind.KNOWN_GOOD:
        raise Conflict(f"snapshot {snapshot_id} is {snapshot.kind}; only known-good snapshots become baselines")
    return snapshot


def _keep_latest(
    session: Session, site: Website, stores: PageStores, now: datetime, *, proposed: bool
) -> WebsiteSnapshot:
    """Keep the last fetched page: known-good at once, or (``proposed``) unreviewed until it is confirmed."""
    if not site.latest_sha256:
        raise Conflict(_("no page has been fetched from this site yet"))
    body = stores.latest.get(site.uid, site.latest_sha256)
    status = SnapshotStatus.UNREVIEWED if proposed else SnapshotStatus.KNOWN_GOOD
    stored = stores.snapshots.save(site_id=site.uid, url=site.url, html=body, taken_at=now, status=status)
    kind = SnapshotKind.PROPOSED if proposed else SnapshotKind.KNOWN_GOOD
    return _snapshot_row(session, site, stored.id, stored.html_sha256, kind, now)


def _snapshot_row(
    session: Session, site: Website, store_id: str, sha256: str, kind: SnapshotKind, at: datetime
) -> WebsiteSnapshot:
    row = WebsiteSnapshot(
        website_id=site.id, org_id=site.org_id, store_id=store_id, html_sha256=sha256, kind=kind.value, taken_at=at
    )
    session.add(row)
    session.flush()
    return row


# --- downloads -----------------------------------------------------------------------------------------


def restore_bundle(session: Session, *, principal: Principal, site_id: int, stores: PageStores) -> tuple[str, bytes]:
    """A tar.gz of the baseline in force (the last known-good page) naming the approval it comes from.

    A pending approval never reaches here: only a confirmed one makes a baseline.
    """
    site = get(session, principal=principal, site_id=site_id)
    baseline = baseline_of(session, website=site)
    if baseline is None:
        raise NotFound("this site has no known-good snapshot yet")
    snapshot = session.get(WebsiteSnapshot, baseline.snapshot_id)
    assert snapshot is not None
    provenance = _provenance(session, baseline)
    stored = stores.snapshots.get_snapshot(site.uid, snapshot.store_id)
    data = stores.snapshots.restore_bundle(stored, approval=provenance)
    audit.record(
        session,
        actor=principal.name,
        action="website.restore_bundle",
        object_type="website",
        object_id=site.id,
        org_id=site.org_id,
        details={"snapshot_id": snapshot.id, "sha256": snapshot.html_sha256, "approval_id": baseline.approval_id},
    )
    label = f"approval-{baseline.approval_id}" if baseline.approval_id else f"baseline-{baseline.id}"
    return f"website-{site.id}-{label}-{snapshot.html_sha256[:12]}.tar.gz", data


def _provenance(session: Session, baseline: WebsiteBaseline) -> dict[str, object]:
    """Who approved the restored page, when and why (what ``approval.json`` of a restore bundle says)."""
    row = session.get(WebsiteApproval, baseline.approval_id) if baseline.approval_id else None
    if row is None:  # a baseline from before approvals were recorded
        return {
            "id": None,
            "baseline_id": baseline.id,
            "requested_by": baseline.approved_by,
            "requested_at": baseline.approved_at.isoformat(),
            "reason": baseline.note,
        }
    return {
        "id": row.id,
        "baseline_id": baseline.id,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at.isoformat(),
        "reason": row.reason,
        "verdict": row.verdict,
        "status": row.status,
        "confirmed_by": row.decided_by,
        "confirmed_at": row.decided_at.isoformat() if row.decided_at else None,
        "confirmation_reason": row.decision_reason,
    }


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
