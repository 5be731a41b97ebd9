"""/api/v1/websites: the watched websites of the caller's organisations. Tenancy lives in the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.api.deps import Caller, DbSession, PlatformDep
from mamori.websites import service
from mamori.websites.history import history
from mamori.websites.schemas import (
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
    snapshots: list[SnapshotOut]


@router.get("")
def list_websites(session: DbSession, principal: Caller, org: str | None = None) -> list[WebsiteOut]:
    return [WebsiteOut.model_validate(s) for s in service.list_(session, principal=principal, org=org)]


@router.post("", status_code=201)
def create_website(data: WebsiteIn, session: DbSession, principal: Caller) -> WebsiteOut:
    return WebsiteOut.model_validate(service.create(session, principal=principal, data=data))


@router.get("/{site_id}")
def get_website(site_id: int, session: DbSession, principal: Caller) -> WebsiteDetail:
    site = service.get(session, principal=principal, site_id=site_id)
    baseline = service.baseline_of(session, website=site)
    snapshots = service.snapshots_of(session, principal=principal, site_id=site_id)
    return WebsiteDetail.model_validate(
        {
            **WebsiteOut.model_validate(site).model_dump(),
            "baseline": BaselineOut.model_validate(baseline) if baseline else None,
            "snapshots": [SnapshotOut.model_validate(s) for s in snapshots],
        }
    )


@router.patch("/{site_id}")
def update_website(site_id: int, data: WebsiteUpdate, session: DbSession, principal: Caller) -> WebsiteOut:
    return WebsiteOut.model_validate(service.update(session, principal=principal, site_id=site_id, data=data))


@router.delete("/{site_id}", status_code=204)
def delete_website(site_id: int, data: DeleteIn, session: DbSession, principal: Caller) -> Response:
    """Stop watching a website for good. The JSON body's ``reason`` is required and audited."""
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
def approve(site_id: int, data: ApproveIn, session: DbSession, principal: Caller, platform: PlatformDep) -> BaselineOut:
    """Approve the last fetched page as the baseline, or (``snapshot_id``) go back to a known-good snapshot."""
    baseline = service.approve(
        session,
        principal=principal,
        site_id=site_id,
        data=data,
        stores=PageStores.under(platform.settings.data_dir),
        now=datetime.now(UTC),
    )
    return BaselineOut.model_validate(baseline)


@router.get("/{site_id}/restore-bundle", response_class=Response)
def restore_bundle(site_id: int, session: DbSession, principal: Caller, platform: PlatformDep) -> Response:
    """A tar.gz of the last known-good page: index.html, resources/, MANIFEST (sha256sum -c), snapshot.json."""
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
