"""Console pages: my tasks, assistance requests (with approval and deployment), the roster, metrics, reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from mamori.accounts import service as accounts
from mamori.api.deps import DbSession, UserCaller
from mamori.cases import measures, report, roster
from mamori.cases import service as response
from mamori.cases.enums import RequestStatus
from mamori.cases.schemas import DecisionIn, ProfileIn
from mamori.incidents import metrics, tasks
from mamori.incidents.access import visible_query
from mamori.incidents.enums import Phase
from mamori.incidents.models import Incident
from mamori.web.console import back, page
from mamori.web.reports import render_html, render_pdf

router = APIRouter(include_in_schema=False)


@router.get("/my-tasks")
def my_tasks(request: Request, session: DbSession, principal: UserCaller) -> HTMLResponse:
    rows = tasks.mine(session, principal=principal)
    return page(request, "my_tasks.html", principal, rows=rows, now=datetime.now(UTC))


@router.get("/assistance")
def assistance(request: Request, session: DbSession, principal: UserCaller, status: str = "") -> HTMLResponse:
    wanted = RequestStatus(status) if status in set(RequestStatus) else None
    rows = response.list_(session, principal=principal, status=wanted)
    can_decide = principal.national_can("assistance.decide")
    suggestions = {
        r.id: response.suggestions(session, principal=principal, request_id=r.id)
        for r in rows
        if can_decide and r.status == RequestStatus.APPROVED.value
    }
    deployments = {r.id: [d for d in response.for_request(session, request_id=r.id)] for r in rows}
    mine = response.my_deployments(session, principal=principal)
    everyone = [d for ds in deployments.values() for d in ds] + list(mine)
    return page(
        request,
        "assistance.html",
        principal,
        rows=rows,
        status=status,
        statuses=list(RequestStatus),
        can_decide=can_decide,
        suggestions=suggestions,
        deployments=deployments,
        names=response.responder_names(session, deployments=everyone),
        mine=mine,
    )


@router.post("/assistance/{request_id}/decision")
def decide(
    request_id: int,
    session: DbSession,
    principal: UserCaller,
    approve: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    response.decide(
        session, principal=principal, request_id=request_id, data=DecisionIn(approve=approve == "yes", note=note)
    )
    return back("/assistance")


@router.post("/assistance/{request_id}/deploy")
def deploy(
    request_id: int, session: DbSession, principal: UserCaller, responder: Annotated[str, Form(max_length=200)]
) -> Response:
    """The form names the responder (username or display name, as the roster shows them), never an id."""
    entry = roster.find_entry(session, principal=principal, name=responder, where="responder")
    response.deploy(session, principal=principal, request_id=request_id, user_id=entry.user_id)
    return back("/assistance")


@router.post("/deployments/{deployment_id}/release")
def release(deployment_id: int, session: DbSession, principal: UserCaller) -> Response:
    response.release(session, principal=principal, deployment_id=deployment_id)
    return back("/assistance")


@router.get("/roster")
def roster_page(request: Request, session: DbSession, principal: UserCaller) -> HTMLResponse:
    can_manage = principal.national_can("roster.manage")
    return page(
        request,
        "roster.html",
        principal,
        rows=roster.entries(session, principal=principal),
        can_manage=can_manage,
        # The picker's first suggestions; typing asks /api/v1/users/search for more (mamori.js).
        people=accounts.search_users(session, principal=principal, limit=accounts.SEARCH_LIMIT) if can_manage else [],
        orgs=accounts.list_orgs(session, principal=principal) if can_manage else [],
    )


@router.post("/roster")
def roster_save(
    session: DbSession,
    principal: UserCaller,
    person: Annotated[str, Form(max_length=200)],
    home_org_id: Annotated[str, Form(max_length=64)] = "",
    skills: Annotated[str, Form(max_length=500)] = "",
    available: Annotated[str, Form()] = "",
    max_load: Annotated[int, Form(ge=1, le=10)] = 2,
) -> Response:
    """The form names the person (username or display name) and, optionally, their home organisation in any
    letter case; left empty, it is where they hold their responder role."""
    user = accounts.find_person(session, principal=principal, name=person, where="person")
    data = ProfileIn(
        user_id=user.id,
        home_org_id=home_org_id or roster.home_of(user),
        skills=[s for s in skills.replace(",", " ").split() if s],
        available=bool(available),
        max_load=max_load,
    )
    roster.upsert(session, principal=principal, data=data)
    return back("/roster")


@router.get("/metrics/incidents")
def metrics_page(request: Request, session: DbSession, principal: UserCaller, days: int = 365) -> HTMLResponse:
    now = datetime.now(UTC)
    rows = metrics.aggregate(session, principal=principal, since=now - timedelta(days=min(days, 3660)), now=now)
    open_q = (
        visible_query(principal).where(Incident.phase != Phase.CLOSED.value).order_by(Incident.id.desc()).limit(200)
    )
    open_rows = [(i, metrics.for_incident(i, now)) for i in session.scalars(open_q)]
    return page(
        request,
        "metrics.html",
        principal,
        rows=rows,
        open_rows=open_rows,
        names=metrics.METRICS,
        sla=metrics.SLA,
        measures=measures.list_(session, principal=principal, open_only=True),
        today=date.today(),
    )


@router.get("/incidents/{incident_id}/report.html")
def report_html(incident_id: int, session: DbSession, principal: UserCaller) -> HTMLResponse:
    data = report.build(session, principal=principal, incident_id=incident_id, now=datetime.now(UTC))
    return HTMLResponse(render_html(data))


@router.get("/incidents/{incident_id}/report.pdf")
def report_pdf(incident_id: int, session: DbSession, principal: UserCaller) -> Response:
    data = report.build(session, principal=principal, incident_id=incident_id, now=datetime.now(UTC))
    headers = {"Content-Disposition": f'attachment; filename="incident-{incident_id}-report.pdf"'}
    return Response(render_pdf(data), media_type="application/pdf", headers=headers)
