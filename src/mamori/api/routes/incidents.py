"""Incidents API: the board, incidents, phases, alerts, timeline, tasks, observables, evidence, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from mamori.api.deps import Caller, DbSession, PlatformDep
from mamori.cases import service as response
from mamori.incidents import evidence, metrics, observables, tasks, timeline
from mamori.incidents import service as incidents
from mamori.incidents.enums import Phase
from mamori.incidents.schemas import (
    CustodyOut,
    EntryIn,
    EntryOut,
    EvidenceOut,
    IncidentFilter,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IncidentUpdate,
    ObservableIn,
    ObservableOut,
    TaskAction,
    TaskIn,
    TaskOut,
    TransferIn,
    TransitionIn,
)

router = APIRouter(tags=["incidents"])


class ClockOut(BaseModel):
    metric: str
    target_hours: float
    elapsed_hours: float | None
    stopped: bool
    breached: bool


class IncidentDetail(IncidentOut):
    alert_ids: list[int]
    clocks: list[ClockOut]


class BoardColumn(BaseModel):
    count: int = Field(description="Incidents in the phase, capped: a value above `count_cap` means more.")
    count_cap: int
    items: list[IncidentOut]


class AlertIds(BaseModel):
    alert_ids: list[int] = Field(min_length=1, max_length=500)


class AggregateOut(BaseModel):
    org_id: str
    category: str
    month: str
    incidents: int
    breaches: int
    median_hours: dict[str, float | None]


def clocks_of(m: metrics.IncidentMetrics) -> list[ClockOut]:
    return [
        ClockOut(
            metric=c.metric,
            target_hours=c.target.total_seconds() / 3600,
            elapsed_hours=None if c.elapsed is None else round(c.elapsed.total_seconds() / 3600, 3),
            stopped=c.stopped,
            breached=c.breached,
        )
        for c in m.clocks
    ]


@router.get("/incidents")
def list_incidents(
    filters: Annotated[IncidentFilter, Depends()], session: DbSession, principal: Caller
) -> IncidentPage:
    rows, cursor = incidents.list_(session, principal=principal, filters=filters)
    return IncidentPage(items=[IncidentOut.model_validate(i) for i in rows], next_before_id=cursor)


@router.post("/incidents", status_code=201)
def create_incident(data: IncidentIn, session: DbSession, principal: Caller) -> IncidentOut:
    return IncidentOut.model_validate(incidents.create(session, principal=principal, data=data))


@router.get("/incidents/board")
def board(session: DbSession, principal: Caller, org: str | None = None) -> dict[str, BoardColumn]:
    columns = incidents.board(session, principal=principal, org=org)
    return {
        phase.value: BoardColumn(
            count=n, count_cap=incidents.COUNT_CAP, items=[IncidentOut.model_validate(i) for i in rows]
        )
        for phase, (rows, n) in columns.items()
    }


@router.get("/incidents/metrics")
def aggregate_metrics(
    session: DbSession, principal: Caller, days: int = 365, org: str | None = None
) -> list[AggregateOut]:
    now = datetime.now(UTC)
    rows = metrics.aggregate(
        session, principal=principal, since=now - timedelta(days=min(days, 3660)), now=now, org=org
    )
    return [
        AggregateOut(
            org_id=a.org_id,
            category=a.category,
            month=a.month,
            incidents=a.incidents,
            breaches=a.breaches,
            median_hours={m: a.median_hours(m) for m in metrics.METRICS},
        )
        for a in rows
    ]


@router.get("/incidents/{incident_id}")
def get_incident(incident_id: int, session: DbSession, principal: Caller) -> IncidentDetail:
    incident = incidents.get(session, principal=principal, incident_id=incident_id)
    alert_ids = [a.id for a in incidents.alerts_of(session, principal=principal, incident_id=incident_id)]
    return IncidentDetail.model_validate(
        {
            **IncidentOut.model_validate(incident).model_dump(),
            "alert_ids": alert_ids,
            "clocks": clocks_of(metrics.for_incident(incident, datetime.now(UTC))),
        }
    )


@router.patch("/incidents/{incident_id}")
def update_incident(incident_id: int, data: IncidentUpdate, session: DbSession, principal: Caller) -> IncidentOut:
    return IncidentOut.model_validate(
        incidents.update(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.post("/incidents/{incident_id}/transition")
def transition(incident_id: int, data: TransitionIn, session: DbSession, principal: Caller) -> IncidentOut:
    """Closing ends the response: deployed responders are released and lose access (audited); reopening
    a closed incident needs a `reason`."""
    return IncidentOut.model_validate(
        response.transition(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: int, session: DbSession, principal: Caller) -> IncidentOut:
    return IncidentOut.model_validate(incidents.acknowledge(session, principal=principal, incident_id=incident_id))


@router.post("/incidents/{incident_id}/alerts")
def attach_alerts(incident_id: int, data: AlertIds, session: DbSession, principal: Caller) -> IncidentOut:
    incident = incidents.attach_alerts(session, principal=principal, incident_id=incident_id, alert_ids=data.alert_ids)
    return IncidentOut.model_validate(incident)


@router.get("/incidents/{incident_id}/timeline")
def get_timeline(
    incident_id: int,
    session: DbSession,
    principal: Caller,
    after_at: datetime | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[EntryOut]:
    after = (after_at, after_id) if after_at is not None else None
    rows = timeline.list_(session, principal=principal, incident_id=incident_id, after=after, limit=limit)
    return [EntryOut.model_validate(e) for e in rows]


@router.post("/incidents/{incident_id}/timeline", status_code=201)
def add_entry(incident_id: int, data: EntryIn, session: DbSession, principal: Caller) -> EntryOut:
    return EntryOut.model_validate(
        timeline.add_manual(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.get("/incidents/{incident_id}/narrative")
def narrative(incident_id: int, session: DbSession, principal: Caller) -> PlainTextResponse:
    return PlainTextResponse(timeline.narrative(session, principal=principal, incident_id=incident_id))


@router.get("/incidents/{incident_id}/tasks")
def list_tasks(incident_id: int, session: DbSession, principal: Caller) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in tasks.list_(session, principal=principal, incident_id=incident_id)]


@router.post("/incidents/{incident_id}/tasks", status_code=201)
def add_task(incident_id: int, data: TaskIn, session: DbSession, principal: Caller) -> TaskOut:
    return TaskOut.model_validate(tasks.add(session, principal=principal, incident_id=incident_id, data=data))


@router.get("/tasks/mine")
def my_tasks(session: DbSession, principal: Caller) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t, _ in tasks.mine(session, principal=principal)]


@router.post("/tasks/{task_id}/actions")
def task_action(task_id: int, data: TaskAction, session: DbSession, principal: Caller) -> TaskOut:
    return TaskOut.model_validate(tasks.act(session, principal=principal, task_id=task_id, action=data))


@router.get("/incidents/{incident_id}/observables")
def list_observables(incident_id: int, session: DbSession, principal: Caller) -> list[ObservableOut]:
    incident = incidents.get(session, principal=principal, incident_id=incident_id)
    rows = observables.list_(session, principal=principal, incident_id=incident_id)
    seen = observables.seen_elsewhere(session, principal=principal, incident=incident, observables=rows)
    return [ObservableOut.model_validate(o).model_copy(update={"seen": seen.get(o.id)}) for o in rows]


@router.post("/incidents/{incident_id}/observables", status_code=201)
def add_observable(incident_id: int, data: ObservableIn, session: DbSession, principal: Caller) -> ObservableOut:
    return ObservableOut.model_validate(
        observables.add(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.get("/incidents/{incident_id}/evidence")
def list_evidence(incident_id: int, session: DbSession, principal: Caller) -> list[EvidenceOut]:
    return [
        EvidenceOut.model_validate(e) for e in evidence.list_(session, principal=principal, incident_id=incident_id)
    ]


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while block := upload.file.read(evidence.CHUNK):
        yield block


@router.post("/incidents/{incident_id}/evidence", status_code=201)
def upload_evidence(
    incident_id: int,
    session: DbSession,
    principal: Caller,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    description: Annotated[str, Form(max_length=10_000)] = "",
) -> EvidenceOut:
    row = evidence.upload(
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
    return EvidenceOut.model_validate(row)


@router.get("/evidence/{evidence_id}/download", response_model=None)
def download_evidence(evidence_id: int, session: DbSession, principal: Caller, platform: PlatformDep) -> Response:
    got = evidence.download(
        session, principal=principal, evidence_id=evidence_id, files_dir=platform.settings.files_dir
    )
    if not got.intact:  # returned, not raised: the custody entry recording the failure must commit
        body: dict[str, Any] = {
            "error": "EvidenceTampered",
            "message": f"evidence {evidence_id} no longer matches its SHA-256; the failure is in the custody log",
            "where": None,
        }
        return JSONResponse(body, status_code=409)
    return FileResponse(
        got.path,
        media_type="application/octet-stream",
        filename=got.evidence.filename,
        headers={"X-Content-SHA256": got.evidence.sha256, "Content-Security-Policy": "sandbox"},
    )


@router.get("/evidence/{evidence_id}/custody")
def custody(evidence_id: int, session: DbSession, principal: Caller) -> list[CustodyOut]:
    return [
        CustodyOut.model_validate(c) for c in evidence.custody(session, principal=principal, evidence_id=evidence_id)
    ]


@router.post("/evidence/{evidence_id}/transfer")
def transfer(evidence_id: int, data: TransferIn, session: DbSession, principal: Caller) -> EvidenceOut:
    return EvidenceOut.model_validate(
        evidence.transfer(session, principal=principal, evidence_id=evidence_id, data=data)
    )


@router.get("/phases")
def phases() -> list[str]:
    return [p.value for p in Phase]
