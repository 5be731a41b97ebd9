"""Response API: the roster, assistance requests, deployments, measures and the incident report data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter

from mamori.api.deps import Caller, DbSession
from mamori.cases import measures, report, roster
from mamori.cases import service as response
from mamori.cases.enums import RequestStatus
from mamori.cases.schemas import (
    DecisionIn,
    DeployIn,
    DeploymentOut,
    MeasureDone,
    MeasureIn,
    MeasureOut,
    ProfileIn,
    RequestIn,
    RequestOut,
    RosterEntry,
)
from mamori.core.errors import ValidationFailed
from mamori.incidents.schemas import EntryOut, EvidenceOut, IncidentOut, ObservableOut, TaskOut

router = APIRouter(tags=["response"])


@router.get("/roster")
def get_roster(session: DbSession, principal: Caller) -> list[RosterEntry]:
    """The responder roster: each responder's home organisation, skills and availability."""
    return roster.entries(session, principal=principal)


@router.put("/roster/{user_id}")
def put_profile(user_id: int, data: ProfileIn, session: DbSession, principal: Caller) -> RosterEntry:
    """Create or change a responder's roster profile. Audited."""
    if data.user_id != user_id:
        raise ValidationFailed("user_id in the path and the body differ", where="user_id")
    roster.upsert(session, principal=principal, data=data)
    return next(e for e in roster.entries(session, principal=principal) if e.user_id == user_id)


@router.post("/incidents/{incident_id}/assistance", status_code=201)
def request_assistance(incident_id: int, data: RequestIn, session: DbSession, principal: Caller) -> RequestOut:
    """Ask the national centre for responders on an incident. Audited."""
    return RequestOut.model_validate(response.request(session, principal=principal, incident_id=incident_id, data=data))


@router.get("/assistance")
def list_requests(session: DbSession, principal: Caller, status: RequestStatus | None = None) -> list[RequestOut]:
    """Assistance requests the caller may see, optionally by status."""
    return [RequestOut.model_validate(r) for r in response.list_(session, principal=principal, status=status)]


@router.get("/assistance/{request_id}")
def get_request(request_id: int, session: DbSession, principal: Caller) -> RequestOut:
    """One assistance request."""
    return RequestOut.model_validate(response.get(session, principal=principal, request_id=request_id))


@router.post("/assistance/{request_id}/decision")
def decide(request_id: int, data: DecisionIn, session: DbSession, principal: Caller) -> RequestOut:
    """Approve or refuse an assistance request (national centre). Audited."""
    return RequestOut.model_validate(response.decide(session, principal=principal, request_id=request_id, data=data))


@router.get("/assistance/{request_id}/suggestions")
def suggestions(request_id: int, session: DbSession, principal: Caller) -> list[RosterEntry]:
    """Responders suited to an approved request: available, with matching skills."""
    return response.suggestions(session, principal=principal, request_id=request_id)


@router.post("/assistance/{request_id}/deployments", status_code=201)
def deploy(request_id: int, data: DeployIn, session: DbSession, principal: Caller) -> DeploymentOut:
    """Deploy a responder on an approved request: grants them access to that one incident. Audited."""
    row = response.deploy(session, principal=principal, request_id=request_id, user_id=data.user_id)
    return DeploymentOut.model_validate(row)


@router.get("/incidents/{incident_id}/deployments")
def incident_deployments(incident_id: int, session: DbSession, principal: Caller) -> list[DeploymentOut]:
    """The deployments on an incident."""
    _, rows = response.for_incident(session, principal=principal, incident_id=incident_id)
    return [DeploymentOut.model_validate(d) for d in rows]


@router.get("/deployments/mine")
def my_deployments(session: DbSession, principal: Caller) -> list[DeploymentOut]:
    """The caller's own deployments."""
    return [DeploymentOut.model_validate(d) for d in response.my_deployments(session, principal=principal)]


@router.post("/deployments/{deployment_id}/release")
def release(deployment_id: int, session: DbSession, principal: Caller) -> DeploymentOut:
    """End a deployment: the responder's access to the incident ends with it. Audited."""
    return DeploymentOut.model_validate(response.release(session, principal=principal, deployment_id=deployment_id))


@router.get("/incidents/{incident_id}/measures")
def incident_measures(incident_id: int, session: DbSession, principal: Caller) -> list[MeasureOut]:
    """The incident's follow-up measures."""
    return [MeasureOut.model_validate(m) for m in measures.list_(session, principal=principal, incident_id=incident_id)]


@router.post("/incidents/{incident_id}/measures", status_code=201)
def add_measure(incident_id: int, data: MeasureIn, session: DbSession, principal: Caller) -> MeasureOut:
    """Add a follow-up measure with an owner and a due date. Audited."""
    return MeasureOut.model_validate(measures.add(session, principal=principal, incident_id=incident_id, data=data))


@router.get("/measures")
def list_measures(session: DbSession, principal: Caller, open_only: bool = False) -> list[MeasureOut]:
    """Follow-up measures the caller may see, optionally only the open ones."""
    return [MeasureOut.model_validate(m) for m in measures.list_(session, principal=principal, open_only=open_only)]


@router.post("/measures/{measure_id}/done")
def measure_done(measure_id: int, data: MeasureDone, session: DbSession, principal: Caller) -> MeasureOut:
    """Mark a measure done, with a note. Audited."""
    return MeasureOut.model_validate(measures.complete(session, principal=principal, measure_id=measure_id, data=data))


@router.get("/incidents/{incident_id}/report")
def report_data(incident_id: int, session: DbSession, principal: Caller) -> dict[str, Any]:
    """The report as JSON; the console renders it as HTML and PDF (`/incidents/{id}/report.pdf`)."""
    r = report.build(session, principal=principal, incident_id=incident_id, now=datetime.now(UTC))
    return {
        "incident": IncidentOut.model_validate(r.incident).model_dump(mode="json"),
        "breaches": r.metrics.breaches,
        "timeline": [EntryOut.model_validate(e).model_dump(mode="json") for e in r.timeline],
        "tasks": [TaskOut.model_validate(t).model_dump(mode="json") for t in r.tasks],
        "observables": [ObservableOut.model_validate(o).model_dump(mode="json") for o in r.observables],
        "evidence": [EvidenceOut.model_validate(e).model_dump(mode="json") for e in r.evidence],
        "measures": [MeasureOut.model_validate(m).model_dump(mode="json") for m in r.measures],
        "deployments": [DeploymentOut.model_validate(d).model_dump(mode="json") for d in r.deployments],
    }
