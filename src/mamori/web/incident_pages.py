"""Console pages of incident response: the board, the incident with its tabs, and the forms they post.

Pages call the same services as the API, so visibility and permissions are the same; forms carry the CSRF
token and redirect back (post/redirect/get)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from mamori.accounts import service as accounts
from mamori.api.deps import DbSession, PlatformDep, UserCaller
from mamori.api.routes.incidents import _chunks
from mamori.cases import measures
from mamori.cases import service as response
from mamori.cases.schemas import MeasureDone, MeasureIn, RequestIn
from mamori.core.errors import ValidationFailed
from mamori.core.severity import Severity
from mamori.incidents import evidence, metrics, observables, tasks, timeline, workflow
from mamori.incidents import service as incidents
from mamori.incidents.enums import Category, ObservableKind, Pap, Phase, Resolution, Tlp
from mamori.incidents.schemas import (
    EntryIn,
    IncidentFilter,
    IncidentIn,
    IncidentUpdate,
    ObservableIn,
    TaskAction,
    TaskIn,
    TransitionIn,
)
from mamori.web.console import back, page

router = APIRouter(include_in_schema=False)
TABS = ("overview", "tasks", "timeline", "observables", "evidence", "response")
CLOSED_PAGE = 50
E = TypeVar("E", bound=Enum)


@router.get("/incidents")
def board(request: Request, session: DbSession, principal: UserCaller, org: str = "") -> HTMLResponse:
    columns = incidents.board(session, principal=principal, org=org or None)
    now = datetime.now(UTC)
    breaches = {i.id: metrics.for_incident(i, now).breaches for rows, _ in columns.values() for i in rows}
    orgs = accounts.list_orgs(session, principal=principal)
    creatable = [o for o in orgs if principal.can("incidents.manage", o.id)]
    return page(
        request,
        "incidents.html",
        principal,
        columns=columns,
        cap=incidents.COUNT_CAP,
        breaches=breaches,
        orgs=orgs,
        org=org,
        creatable=creatable,
        categories=list(Category),
        tlps=list(Tlp),
    )


@router.get("/incidents/closed")
def closed(
    request: Request,
    session: DbSession,
    principal: UserCaller,
    q: Annotated[str, Query(max_length=200)] = "",
    org: Annotated[str, Query(max_length=64)] = "",
    category: str = "",
    severity: str = "",
    closed_from: str = "",
    closed_to: str = "",
    before_id: int | None = None,
) -> HTMLResponse:
    """Closed incidents (they leave the board): text search over title and reference, filters, paging."""
    filters = IncidentFilter(
        phase=Phase.CLOSED,
        q=q or None,
        org=org or None,
        category=_choice(Category, category, "category"),
        severity=_choice(Severity, severity, "severity"),
        closed_from=_day(closed_from, "closed_from"),
        closed_to=_day(closed_to, "closed_to"),
        before_id=before_id,
        limit=CLOSED_PAGE,
    )
    rows, cursor = incidents.list_(session, principal=principal, filters=filters)
    query = {k: v for k, v in request.query_params.items() if k != "before_id" and v}
    return page(
        request,
        "incidents_closed.html",
        principal,
        rows=rows,
        total=incidents.count(session, principal=principal, filters=filters),
        cap=incidents.COUNT_CAP,
        filters=filters,
        orgs=accounts.list_orgs(session, principal=principal),
        categories=list(Category),
        older=f"?{urlencode({**query, 'before_id': cursor})}" if cursor else None,
        newest=f"?{urlencode(query)}" if before_id else None,
    )


def _choice(enum: type[E], value: str, where: str) -> E | None:
    """A select's value read into its enum; anything else is a clear refusal, not a server error."""
    if not value:
        return None
    try:
        return enum(value)
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a {where}", where=where) from exc


def _day(value: str, where: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"{value!r} is not a day (YYYY-MM-DD)", where=where) from exc


@router.post("/incidents")
def create(
    session: DbSession,
    principal: UserCaller,
    org_id: Annotated[str, Form()],
    title: Annotated[str, Form(max_length=300)],
    category: Annotated[str, Form()],
    severity: Annotated[str, Form()],
    tlp: Annotated[str, Form()] = "amber",
    description: Annotated[str, Form(max_length=20_000)] = "",
    alert_ids: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ids = [int(x) for x in alert_ids.replace(",", " ").split() if x.isdigit()]
    data = IncidentIn.model_validate(
        {
            "org_id": org_id,
            "title": title,
            "category": category,
            "severity": severity,
            "tlp": tlp,
            "description": description,
            "alert_ids": ids,
        }
    )
    incident = incidents.create(session, principal=principal, data=data)
    return back(f"/incidents/{incident.id}")


@router.get("/incidents/{incident_id}")
def detail(
    incident_id: int, request: Request, session: DbSession, principal: UserCaller, tab: str = "overview"
) -> HTMLResponse:
    incident = incidents.get(session, principal=principal, incident_id=incident_id)
    tab = tab if tab in TABS else "overview"
    context: dict[str, Any] = {
        "incident": incident,
        "tab": tab,
        "tabs": TABS,
        "clocks": metrics.for_incident(incident, datetime.now(UTC)),
        "can_manage": principal.can_incident("incidents.manage", incident.org_id, incident.id),
        "can_work": principal.can_incident("incidents.work", incident.org_id, incident.id),
        "can_request": principal.can("assistance.request", incident.org_id),
        "next_phases": sorted(workflow.allowed_next(Phase(incident.phase)), key=workflow.ORDER.index),
        "forward": workflow.forward(Phase(incident.phase)),  # preselected: one click never moves back
        "deployed": response.deployed_on(session, principal=principal, incident_id=incident.id),
        "resolutions": list(Resolution),
        "categories": list(Category),
        "tlps": list(Tlp),
        "paps": list(Pap),
        "phases": list(workflow.ACTIVE),
        "kinds": list(ObservableKind),
        "today": date.today(),
    }
    context.update(_tab_data(session, principal, incident_id, tab))
    return page(request, "incident.html", principal, **context)


def _tab_data(session: DbSession, principal: UserCaller, incident_id: int, tab: str) -> dict[str, object]:
    if tab == "overview":
        return {"alerts": incidents.alerts_of(session, principal=principal, incident_id=incident_id)}
    if tab == "tasks":
        return {"tasks": tasks.list_(session, principal=principal, incident_id=incident_id)}
    if tab == "timeline":
        return {"entries": timeline.list_(session, principal=principal, incident_id=incident_id, limit=500)}
    if tab == "observables":
        incident = incidents.get(session, principal=principal, incident_id=incident_id)
        rows = observables.list_(session, principal=principal, incident_id=incident_id)
        seen = observables.seen_elsewhere(session, principal=principal, incident=incident, observables=rows)
        return {"observables": rows, "seen": seen}
    if tab == "evidence":
        return {"evidence": evidence.list_(session, principal=principal, incident_id=incident_id)}
    requests, deployments = response.for_incident(session, principal=principal, incident_id=incident_id)
    return {
        "requests": requests,
        "deployments": deployments,
        "names": response.responder_names(session, deployments=deployments),
        "measures": measures.list_(session, principal=principal, incident_id=incident_id),
    }


@router.post("/incidents/{incident_id}/transition")
def transition(
    incident_id: int,
    request: Request,
    session: DbSession,
    principal: UserCaller,
    phase: Annotated[str, Form()],
    resolution: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    # Validated first: an unknown phase or resolution is refused before any page, the confirmation included.
    data = TransitionIn.model_validate(
        {"phase": phase, "resolution": resolution or None, "note": note, "reason": reason}
    )
    if data.phase is Phase.CLOSED and confirmed != "yes":
        # Closing is destructive (responders lose access): first a page saying what will happen, asking for
        # the resolution and a reason.
        preview = response.closing_preview(session, principal=principal, incident_id=incident_id)
        return page(
            request,
            "incident_close.html",
            principal,
            incident=incidents.get(session, principal=principal, incident_id=incident_id),
            preview=preview,
            resolutions=list(Resolution),
            chosen=data.resolution.value if data.resolution else "",
            note=data.note,
            reason=data.reason,
        )
    response.transition(session, principal=principal, incident_id=incident_id, data=data)
    return back(f"/incidents/{incident_id}")


@router.post("/incidents/{incident_id}/update")
def update(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    category: Annotated[str, Form()],
    severity: Annotated[str, Form()],
    tlp: Annotated[str, Form()],
    pap: Annotated[str, Form()],
    root_cause: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    data = IncidentUpdate.model_validate(
        {"category": category, "severity": severity, "tlp": tlp, "pap": pap, "root_cause": root_cause}
    )
    incidents.update(session, principal=principal, incident_id=incident_id, data=data)
    return back(f"/incidents/{incident_id}")


@router.post("/incidents/{incident_id}/tasks")
def add_task(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    title: Annotated[str, Form(max_length=300)],
    phase: Annotated[str, Form()],
) -> Response:
    tasks.add(
        session,
        principal=principal,
        incident_id=incident_id,
        data=TaskIn.model_validate({"title": title, "phase": phase}),
    )
    return back(f"/incidents/{incident_id}?tab=tasks")


@router.post("/tasks/{task_id}/action")
def task_action(
    task_id: int,
    session: DbSession,
    principal: UserCaller,
    action: Annotated[str, Form()],
    notes: Annotated[str, Form(max_length=10_000)] = "",
    assignee_id: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form()] = "",
) -> Response:
    data = TaskAction(action=action, notes=notes, assignee_id=int(assignee_id) if assignee_id.isdigit() else None)
    task = tasks.act(session, principal=principal, task_id=task_id, action=data)
    return back("/my-tasks" if next_url == "my-tasks" else f"/incidents/{task.incident_id}?tab=tasks")


@router.post("/incidents/{incident_id}/timeline")
def add_entry(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    text: Annotated[str, Form(max_length=10_000)],
    event_at: Annotated[str, Form()] = "",
) -> Response:
    when = _parse_local(event_at)
    timeline.add_manual(session, principal=principal, incident_id=incident_id, data=EntryIn(text=text, event_at=when))
    return back(f"/incidents/{incident_id}?tab=timeline")


def _parse_local(value: str) -> datetime | None:
    """A `datetime-local` field, read as UTC (the console shows every time in UTC)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValidationFailed("not a date and time", where="event_at") from exc


@router.post("/incidents/{incident_id}/observables")
def add_observable(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    kind: Annotated[str, Form()],
    value: Annotated[str, Form(max_length=500)],
) -> Response:
    data = ObservableIn.model_validate({"kind": kind, "value": value})
    observables.add(session, principal=principal, incident_id=incident_id, data=data)
    return back(f"/incidents/{incident_id}?tab=observables")


@router.post("/incidents/{incident_id}/evidence")
def upload_evidence(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    description: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    evidence.upload(
        session,
        principal=principal,
        incident_id=incident_id,
        chunks=_chunks(file),
        filename=file.filename or "unnamed",
        content_type=file.content_type or "application/octet-stream",
        description=description,
        files_dir=platform.settings.files_dir,
        max_bytes=platform.settings.evidence_max_bytes,
    )
    return back(f"/incidents/{incident_id}?tab=evidence")


@router.post("/incidents/{incident_id}/assistance")
def request_assistance(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    reason: Annotated[str, Form(max_length=10_000)],
    skills: Annotated[str, Form(max_length=500)] = "",
    people: Annotated[int, Form(ge=1, le=20)] = 1,
) -> Response:
    data = RequestIn(reason=reason, skills=[s for s in skills.replace(",", " ").split() if s], people=people)
    response.request(session, principal=principal, incident_id=incident_id, data=data)
    return back(f"/incidents/{incident_id}?tab=response")


@router.post("/incidents/{incident_id}/measures")
def add_measure(
    incident_id: int,
    session: DbSession,
    principal: UserCaller,
    title: Annotated[str, Form(max_length=300)],
    owner: Annotated[str, Form(max_length=200)],
    due_on: Annotated[date, Form()],
) -> Response:
    measures.add(
        session, principal=principal, incident_id=incident_id, data=MeasureIn(title=title, owner=owner, due_on=due_on)
    )
    return back(f"/incidents/{incident_id}?tab=response")


@router.post("/measures/{measure_id}/done")
def measure_done(
    measure_id: int, session: DbSession, principal: UserCaller, note: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    row = measures.complete(session, principal=principal, measure_id=measure_id, data=MeasureDone(note=note))
    return back(f"/incidents/{row.incident_id}?tab=response")
