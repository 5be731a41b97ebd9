"""/api/v1/websites: the watched websites of the caller's organisations. Tenancy lives in the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.api.deps import Caller, DbSession, PlatformDep
from mamori.websites import service
from mamori.websites.enums import ApprovalStatus
from mamori.websites.history import history
from mamori.websites.schemas import (
    ApprovalDecisionIn,
    ApprovalOut,
    ApproveIn,
    BaselineOut,
    CheckOut,
    SnapshotOut,
    WebsiteIn,
    WebsiteOut,
    WebsiteUpdate,
)
from mamori.websites.storage import PageStores

router = APIRouter(prefix="/websites", tags=["websites"])

# A stored page is whatever the site served, attacker's scripts included: never let a browser run it.
HOSTILE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


class LatencyOut(BaseModel):
    start: datetime
    count: int
    p50: float
    p95: float
    max: float


class ChecksPage(BaseModel):
    uptime_24h: float | None
    uptime_7d: float | None
    latency: list[LatencyOut]
    items: list[CheckOut]


class DeleteIn(BaseModel):
    reason: str = Field(max_length=2000, description="Why the website is no longer watched; kept in the audit log.")


class WebsiteDetail(WebsiteOut):
    baseline: BaselineOut | None
    pending_approval: ApprovalOut | None
    snapshots: list[SnapshotOut]


@router.get("")
def list_websites(session: DbSession, principal: Caller, org: str | None = None) -> list[WebsiteOut]:
    """Watched websites the caller may see, optionally of one organisation."""
    return [WebsiteOut.model_validate(s) for s in service.list_(session, principal=principal, org=org)]


@router.post("", status_code=201)
def create_website(data: WebsiteIn, session: DbSession, principal: Caller) -> WebsiteOut:
    """Watch a new website (URL, expectations on content, TLS and DNS). Audited."""
    return WebsiteOut.model_validate(service.create(session, principal=principal, data=data))


@router.get("/{site_id}")
def get_website(site_id: int, session: DbSession, principal: Caller) -> WebsiteDetail:
    """One watched website with its baseline and kept snapshots."""
    site = service.get(session, principal=principal, site_id=site_id)
    baseline = service.baseline_of(session, website=site)
    snapshots = service.snapshots_of(session, principal=principal, site_id=site_id)
    pending = service.approvals(session, principal=principal, site_id=site_id, status=ApprovalStatus.PENDING)
    return WebsiteDetail.model_validate(
        {
            **WebsiteOut.model_validate(site).model_dump(),
            "baseline": BaselineOut.model_validate(baseline) if baseline else None,
            "pending_approval": ApprovalOut.model_validate(pending[0]) if pending else None,
            "snapshots": [SnapshotOut.model_validate(s) for s in snapshots],
        }
    )


@router.patch("/{site_id}")
def update_website(site_id: int, data: WebsiteUpdate, session: DbSession, principal: Caller) -> WebsiteOut:
    """Change a watched website's name, URL, interval, expectations or enabled state. Audited."""
    return WebsiteOut.model_validate(service.update(session, principal=principal, site_id=site_id, data=data))


@router.delete("/{site_id}", status_code=204)
def delete_website(site_id: int, data: DeleteIn, session: DbSession, principal: Caller) -> Response:
    """Stop watching a website and delete it with its history. The JSON body's ``reason`` is required and audited."""
    service.delete(session, principal=principal, site_id=site_id, reason=data.reason)
    return Response(status_code=204)


@router.get("/{site_id}/checks")
def website_checks(
    site_id: int, session: DbSession, principal: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> ChecksPage:
    """Recent checks (newest first) with uptime over 24 hours and 7 days and hourly latency percentiles."""
    rows = service.checks(session, principal=principal, site_id=site_id, limit=limit)
    past = history(session, principal=principal, site_id=site_id, now=datetime.now(UTC))
    return ChecksPage(
        uptime_24h=past.uptime_24h,
        uptime_7d=past.uptime_7d,
        latency=[LatencyOut(start=p.start, count=p.count, p50=p.p50, p95=p.p95, max=p.max) for p in past.latency],
        items=[CheckOut.model_validate(r) for r in rows],
    )


@router.post("/{site_id}/check", status_code=202)
def check_now(site_id: int, session: DbSession, principal: Caller) -> dict[str, bool]:
    """Ask the watch to check the site now; the result appears under /checks moments later."""
    service.request_check(session, principal=principal, site_id=site_id)
    return {"requested": True}


@router.post("/{site_id}/approve")
def approve(
    site_id: int, data: ApproveIn, response: Response, session: DbSession, principal: Caller, platform: PlatformDep
) -> ApprovalOut:
    """Approve the last fetched page as the baseline, or (``snapshot_id``) go back to a known-good snapshot.

    ``reason`` is required. A page the current verdict calls changed or defaced also needs
    ``"confirm_changed": true`` and then waits (202, status ``pending``) for a second person of the national
    centre: until then the watch compares with, and the restore bundle hands out, the previous known-good page.
    """
    approval = service.approve(
        session,
        principal=principal,
        site_id=site_id,
        data=data,
        stores=PageStores.under(platform.settings.data_dir),
        now=datetime.now(UTC),
        single_approval=platform.settings.baseline_single_approval,
    )
    if approval.status == ApprovalStatus.PENDING:
        response.status_code = 202
    return ApprovalOut.model_validate(approval)


@router.get("/{site_id}/approvals")
def list_approvals(
    site_id: int, session: DbSession, principal: Caller, status: ApprovalStatus | None = None
) -> list[ApprovalOut]:
    """The site's approvals, newest first (``status=pending``: those waiting for a second person)."""
    rows = service.approvals(session, principal=principal, site_id=site_id, status=status)
    return [ApprovalOut.model_validate(a) for a in rows]


@router.get("/{site_id}/approvals/{approval_id}")
def get_approval(site_id: int, approval_id: int, session: DbSession, principal: Caller) -> ApprovalOut:
    """One baseline approval: who asked and why, the verdict then, and who confirmed or rejected it."""
    row = service.get_approval(session, principal=principal, site_id=site_id, approval_id=approval_id)
    return ApprovalOut.model_validate(row)


@router.post("/{site_id}/approvals/{approval_id}/confirm")
def confirm_approval(
    site_id: int,
    approval_id: int,
    data: ApprovalDecisionIn,
    session: DbSession,
    principal: Caller,
    platform: PlatformDep,
) -> ApprovalOut:
    """A second person (national role, not the requester) puts a pending approval in force, with a reason."""
    return _decide(site_id, approval_id, data, session, principal, platform, confirm=True)


@router.post("/{site_id}/approvals/{approval_id}/reject")
def reject_approval(
    site_id: int,
    approval_id: int,
    data: ApprovalDecisionIn,
    session: DbSession,
    principal: Caller,
    platform: PlatformDep,
) -> ApprovalOut:
    """A second person (national role, not the requester) refuses a pending approval, with a reason."""
    return _decide(site_id, approval_id, data, session, principal, platform, confirm=False)


def _decide(
    site_id: int,
    approval_id: int,
    data: ApprovalDecisionIn,
    session: DbSession,
    principal: Caller,
    platform: PlatformDep,
    *,
    confirm: bool,
) -> ApprovalOut:
    row = service.decide(
        session,
        principal=principal,
        site_id=site_id,
        approval_id=approval_id,
        data=data,
        confirm=confirm,
        stores=PageStores.under(platform.settings.data_dir),
        now=datetime.now(UTC),
    )
    return ApprovalOut.model_validate(row)


@router.get("/{site_id}/restore-bundle", response_class=Response)
def restore_bundle(site_id: int, session: DbSession, principal: Caller, platform: PlatformDep) -> Response:
    """A tar.gz of the last known-good page: index.html, resources/, MANIFEST (sha256sum -c), snapshot.json and
    approval.json (the approval the copy comes from: id, who asked, when, why, who confirmed)."""
    stores = PageStores.under(platform.settings.data_dir)
    name, data = service.restore_bundle(session, principal=principal, site_id=site_id, stores=stores)
    headers = {"Content-Disposition": f'attachment; filename="{name}"', **HOSTILE_HEADERS}
    return Response(data, media_type="application/gzip", headers=headers)


@router.get("/{site_id}/snapshots/{sha256}", response_class=Response)
def snapshot(site_id: int, sha256: str, session: DbSession, principal: Caller, platform: PlatformDep) -> Response:
    """A kept page, byte for byte (its hash re-verified), as a download that no browser renders."""
    stores = PageStores.under(platform.settings.data_dir)
    data = service.snapshot_bytes(session, principal=principal, site_id=site_id, sha256=sha256, stores=stores)
    headers = {
        "Content-Disposition": f'attachment; filename="{sha256}.html.txt"',
        "X-Content-SHA256": sha256,
        **HOSTILE_HEADERS,
    }
    return Response(data, media_type="application/octet-stream", headers=headers)
