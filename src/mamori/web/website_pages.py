"""Console pages of the website watch: the status wall, one site's detail, approve, check-now and delete forms.

A watched page is hostile content. It is shown only as escaped text (the side-by-side diff), or as its
source in a sandboxed frame served as ``text/plain`` under ``Content-Security-Policy: sandbox``, so nothing
an attacker put into it can run in the console.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.principal import Principal
from mamori.api.deps import DbSession, PlatformDep, UserCaller
from mamori.core.errors import ValidationFailed
from mamori.i18n import _
from mamori.platform import Platform
from mamori.web.charts import latency_lines
from mamori.web.console import back, page
from mamori.websites import service
from mamori.websites.enums import ApprovalStatus
from mamori.websites.history import history
from mamori.websites.models import Website, WebsiteApproval, WebsiteBaseline, WebsiteCheck
from mamori.websites.schemas import ApprovalDecisionIn, ApproveIn, WebsiteIn
from mamori.websites.storage import PageStores
from mamori.websites.textdiff import side_by_side

router = APIRouter(include_in_schema=False)
WALL_REFRESH_SECONDS = 30
WORST_FIRST = ("defaced", "down", "failing", "changed", "unknown", "up", "paused")  # the wall's order
SANDBOXED = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",  # framed by the detail page only
    "Cache-Control": "no-store",
}


def tile_state(site: Website) -> str:
    """One word per tile, worst first: what the wall colours the site by."""
    if not site.enabled:
        return "paused"
    if site.integrity == "defaced":
        return "defaced"
    if site.availability in ("down", "failing", "unknown"):
        return site.availability
    return "changed" if site.integrity == "changed" else "up"


def _stores(platform: Platform) -> PageStores:
    return PageStores.under(platform.settings.data_dir)


@router.get("/websites")
def wall(request: Request, session: DbSession, principal: UserCaller, org: str = "") -> HTMLResponse:
    sites = service.list_(session, principal=principal, org=org or None)
    orgs = accounts.list_orgs(session, principal=principal)
    counts: dict[str, int] = {}
    for site in sites:
        counts[tile_state(site)] = counts.get(tile_state(site), 0) + 1
    manageable = [o for o in orgs if principal.can("websites.manage", o.id)]
    return page(
        request,
        "websites.html",
        principal,
        sites=sorted(((s, tile_state(s)) for s in sites), key=lambda pair: WORST_FIRST.index(pair[1])),
        orgs=orgs,
        org=org,
        counts=counts,
        manageable=manageable,
        refresh=WALL_REFRESH_SECONDS,
        states=WORST_FIRST,
    )


@router.post("/websites")
def create(
    session: DbSession,
    principal: UserCaller,
    org_id: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    url: Annotated[str, Form(max_length=2000)],
    interval_seconds: Annotated[int, Form()] = 300,
    failures_before_alert: Annotated[int, Form()] = 3,
) -> Response:
    data = WebsiteIn(
        org_id=org_id,
        name=name,
        url=url,
        interval_seconds=interval_seconds,
        failures_before_alert=failures_before_alert,
    )
    site = service.create(session, principal=principal, data=data)
    return back(f"/websites/{site.id}")


@router.get("/websites/{site_id}")
def detail(
    site_id: int, request: Request, session: DbSession, principal: UserCaller, platform: PlatformDep
) -> HTMLResponse:
    site = service.get(session, principal=principal, site_id=site_id)
    stores = _stores(platform)
    past = history(session, principal=principal, site_id=site_id, now=datetime.now(UTC))
    chart = latency_lines([(p.start.strftime("%d %H:%M"), p.p50, p.p95) for p in past.latency])
    checks = service.checks(session, principal=principal, site_id=site_id, limit=30)
    baseline_html = service.baseline_page(session, principal=principal, site_id=site_id, stores=stores)
    current_html = service.current_page(session, principal=principal, site_id=site_id, stores=stores)
    diff = side_by_side(baseline_html, current_html, url=site.url) if baseline_html and current_html else []
    pending = service.approvals(session, principal=principal, site_id=site_id, status=ApprovalStatus.PENDING)
    baseline = service.baseline_of(session, website=site)
    snapshots = service.snapshots_of(session, principal=principal, site_id=site_id)
    return page(
        request,
        "website.html",
        principal,
        site=site,
        state=tile_state(site),
        past=past,
        chart=chart,
        checks=checks,
        verdict=_last_verdict(checks),
        baseline=baseline,
        baseline_approval=_approval_of(session, principal, baseline),
        pending=pending[0] if pending else None,
        pending_sha256=next((k.html_sha256 for k in snapshots if pending and k.id == pending[0].snapshot_id), ""),
        settings_single_approval=platform.settings.baseline_single_approval,
        needs_confirmation=current_html is not None and service.needs_confirmation(session, website=site),
        can_decide=bool(pending) and _may_decide(principal, pending[0].requested_by),
        snapshots=snapshots,
        diff=diff,
        changed_lines=sum(1 for row in diff if row.op != "same"),
        has_current=current_html is not None,
        can_manage=principal.can("websites.manage", site.org_id),
        can_approve=principal.can("websites.approve", site.org_id),
    )


def _approval_of(session: Session, principal: Principal, baseline: WebsiteBaseline | None) -> WebsiteApproval | None:
    if baseline is None or baseline.approval_id is None:
        return None
    return service.get_approval(
        session, principal=principal, site_id=baseline.website_id, approval_id=baseline.approval_id
    )


def _may_decide(principal: Principal, requested_by: str) -> bool:
    """Whether to show the confirm and reject buttons (the service decides again when they are pressed)."""
    return principal.national_can("websites.approve") and not principal.is_token and principal.name != requested_by


def _last_verdict(checks: Sequence[WebsiteCheck]) -> WebsiteCheck | None:
    """The newest check that compared a page with the baseline."""
    for check in checks:
        if check.score is not None:
            return check
    return None


@router.post("/websites/{site_id}/approve")
def approve(
    site_id: int,
    session: DbSession,
    principal: UserCaller,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirm_changed: Annotated[str, Form()] = "",
    snapshot_id: Annotated[str, Form()] = "",
) -> Response:
    data = ApproveIn(
        reason=reason,
        confirm_changed=confirm_changed == "yes",
        snapshot_id=int(snapshot_id) if snapshot_id.isdigit() else None,
    )
    service.approve(
        session,
        principal=principal,
        site_id=site_id,
        data=data,
        stores=_stores(platform),
        now=datetime.now(UTC),
        single_approval=platform.settings.baseline_single_approval,
    )
    return back(f"/websites/{site_id}")


@router.post("/websites/{site_id}/approvals/{approval_id}/decision")
def decide(
    site_id: int,
    approval_id: int,
    session: DbSession,
    principal: UserCaller,
    platform: PlatformDep,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """The second person's confirm or reject button of a pending approval."""
    if decision not in ("confirm", "reject"):
        raise ValidationFailed(_("decision must be confirm or reject"), where="decision")
    service.decide(
        session,
        principal=principal,
        site_id=site_id,
        approval_id=approval_id,
        data=ApprovalDecisionIn(reason=reason),
        confirm=decision == "confirm",
        stores=_stores(platform),
        now=datetime.now(UTC),
    )
    return back(f"/websites/{site_id}")


@router.post("/websites/{site_id}/check")
def check_now(site_id: int, session: DbSession, principal: UserCaller) -> Response:
    service.request_check(session, principal=principal, site_id=site_id)
    return back(f"/websites/{site_id}")


@router.get("/websites/{site_id}/source/{which}")
def source(site_id: int, which: str, session: DbSession, principal: UserCaller, platform: PlatformDep) -> Response:
    """A page's source as plain text, for the sandboxed frame of the detail page: shown, never run.

    ``which`` is ``baseline``, ``current`` or the SHA-256 of a kept page of this site.
    """
    stores = _stores(platform)
    data: bytes | None
    if which == "baseline":
        data = service.baseline_page(session, principal=principal, site_id=site_id, stores=stores)
    elif which == "current":
        data = service.current_page(session, principal=principal, site_id=site_id, stores=stores)
    else:
        data = service.snapshot_bytes(session, principal=principal, site_id=site_id, sha256=which, stores=stores)
    return Response(data or b"", media_type="text/plain; charset=utf-8", headers=SANDBOXED)


@router.post("/websites/{site_id}/delete")
def delete(
    site_id: int,
    request: Request,
    session: DbSession,
    principal: UserCaller,
    reason: Annotated[str, Form(max_length=2000)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """Deleting ends the watch for good: first a page saying so, asking for a reason; then the service deletes
    (and refuses without a reason)."""
    if confirmed != "yes":
        site = service.get_to_manage(session, principal=principal, site_id=site_id)
        return page(request, "website_delete.html", principal, site=site, reason=reason)
    service.delete(session, principal=principal, site_id=site_id, reason=reason)
    return back("/websites")
