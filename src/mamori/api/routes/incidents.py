"""Incidents API: the board, incidents, phases, alerts, timeline, tasks, observables, evidence, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from mamori.api import errors
from mamori.api.deps import Caller, DbSession, PlatformDep
from mamori.cases import service as response
from mamori.core.times import Instant
from mamori.incidents import evidence, metrics, observables, tasks, timeline
from mamori.incidents import service as incidents
from mamori.incidents.enums import Phase
from mamori.incidents.errors import EvidenceTampered
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
    """Incidents the caller may see, newest first; page on with `before_id` = `next_before_id`."""
    rows, cursor = incidents.list_(session, principal=principal, filters=filters)
    return IncidentPage(items=[IncidentOut.model_validate(i) for i in rows], next_before_id=cursor)


@router.post("/incidents", status_code=201)
def create_incident(data: IncidentIn, session: DbSession, principal: Caller) -> IncidentOut:
    """Open an incident in an organisation, optionally from alerts. Audited."""
    return IncidentOut.model_validate(incidents.create(session, principal=principal, data=data))


@router.get("/incidents/board")
def board(session: DbSession, principal: Caller, org: str | None = None) -> dict[str, BoardColumn]:
    """The incident board: per NIST phase, the count and the newest incidents."""
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
    """Per organisation, category and month: incidents, SLA breaches and median hours per clock."""
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
    """One incident with its alert ids and its SLA clocks."""
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
    """Change an incident's title, description, category, severity, TLP/PAP, root cause or lead. Audited."""
    return IncidentOut.model_validate(
        incidents.update(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.post("/incidents/{incident_id}/transition")
def transition(incident_id: int, data: TransitionIn, session: DbSession, principal: Caller) -> IncidentOut:
    """Move an incident to another phase of its workflow (e.g. containment); closing needs a `resolution` and a
    `reason` (kept in the timeline and the audit log) and ends the response: deployed responders are released and
    lose access, waiting assistance requests are withdrawn (audited); reopening a closed incident needs a `reason`."""
    return IncidentOut.model_validate(
        response.transition(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(incident_id: int, session: DbSession, principal: Caller) -> IncidentOut:
    """Acknowledge an incident: stops its time-to-acknowledge clock. Audited."""
    return IncidentOut.model_validate(incidents.acknowledge(session, principal=principal, incident_id=incident_id))


@router.post("/incidents/{incident_id}/alerts")
def attach_alerts(incident_id: int, data: AlertIds, session: DbSession, principal: Caller) -> IncidentOut:
    """Attach alerts of the incident's organisation to the incident. Audited."""
    incident = incidents.attach_alerts(session, principal=principal, incident_id=incident_id, alert_ids=data.alert_ids)
    return IncidentOut.model_validate(incident)


@router.get("/incidents/{incident_id}/timeline")
def get_timeline(
    incident_id: int,
    session: DbSession,
    principal: Caller,
    after_at: Instant | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[EntryOut]:
    """The incident's timeline (event time and record time), oldest first; page with `after_at`/`after_id`."""
    after = (after_at, after_id) if after_at is not None else None
    rows = timeline.list_(session, principal=principal, incident_id=incident_id, after=after, limit=limit)
    return [EntryOut.model_validate(e) for e in rows]


@router.post("/incidents/{incident_id}/timeline", status_code=201)
def add_entry(incident_id: int, data: EntryIn, session: DbSession, principal: Caller) -> EntryOut:
    """Add a manual entry to the incident's timeline. Audited."""
    return EntryOut.model_validate(
        timeline.add_manual(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.get("/incidents/{incident_id}/narrative")
def narrative(incident_id: int, session: DbSession, principal: Caller) -> PlainTextResponse:
    """The timeline as plain text, for a report."""
    return PlainTextResponse(timeline.narrative(session, principal=principal, incident_id=incident_id))


@router.get("/incidents/{incident_id}/tasks")
def list_tasks(incident_id: int, session: DbSession, principal: Caller) -> list[TaskOut]:
    """The incident's tasks (from its category's playbook and added by hand)."""
    return [TaskOut.model_validate(t) for t in tasks.list_(session, principal=principal, incident_id=incident_id)]


@router.post("/incidents/{incident_id}/tasks", status_code=201)
def add_task(incident_id: int, data: TaskIn, session: DbSession, principal: Caller) -> TaskOut:
    """Add a task to an incident. Audited."""
    return TaskOut.model_validate(tasks.add(session, principal=principal, incident_id=incident_id, data=data))


@router.get("/tasks/mine")
def my_tasks(session: DbSession, principal: Caller) -> list[TaskOut]:
    """Open tasks assigned to the caller, across incidents."""
    return [TaskOut.model_validate(t) for t, _ in tasks.mine(session, principal=principal)]


@router.post("/tasks/{task_id}/actions")
def task_action(task_id: int, data: TaskAction, session: DbSession, principal: Caller) -> TaskOut:
    """Act on a task: assign, complete, skip, reopen or add a note. Audited."""
    return TaskOut.model_validate(tasks.act(session, principal=principal, task_id=task_id, action=data))


@router.get("/incidents/{incident_id}/observables")
def list_observables(incident_id: int, session: DbSession, principal: Caller) -> list[ObservableOut]:
    """The incident's observables; `seen` tells in how many other incidents each was seen (a count only, for
    ministries)."""
    incident = incidents.get(session, principal=principal, incident_id=incident_id)
    rows = observables.list_(session, principal=principal, incident_id=incident_id)
    seen = observables.seen_elsewhere(session, principal=principal, incident=incident, observables=rows)
    return [ObservableOut.model_validate(o).model_copy(update={"seen": seen.get(o.id)}) for o in rows]


@router.post("/incidents/{incident_id}/observables", status_code=201)
def add_observable(incident_id: int, data: ObservableIn, session: DbSession, principal: Caller) -> ObservableOut:
    """Add an observable (IP, domain, URL, hash, …) to an incident. Audited."""
    return ObservableOut.model_validate(
        observables.add(session, principal=principal, incident_id=incident_id, data=data)
    )


@router.get("/incidents/{incident_id}/evidence")
def list_evidence(incident_id: int, session: DbSession, principal: Caller) -> list[EvidenceOut]:
    """The incident's evidence items with their SHA-256 and current holder."""
    return [
        EvidenceOut.model_validate(e) for e in evidence.list_(session, principal=principal, incident_id=incident_id)
    ]


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    while block := upload.file.read(evidence.CHUNK):
        yield block


@router.post("/incidents/{incident_id}/evidence", status_code=201, responses={413: {}})
def upload_evidence(
    incident_id: int,
    session: DbSession,
    principal: Caller,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    description: Annotated[str, Form(max_length=10_000)] = "",
) -> EvidenceOut:
    """Upload an evidence file (multipart); it is stored content-addressed by SHA-256 and its custody starts.
    Audited."""
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


@router.get(
    "/evidence/{evidence_id}/download",
    response_model=None,
    responses={200: {"content": {"application/octet-stream": {}}}, 409: {}},
)
def download_evidence(evidence_id: int, session: DbSession, principal: Caller, platform: PlatformDep) -> Response:
    """Download an evidence file after re-verifying its SHA-256; 409 when it no longer matches (the failure is
    logged in the custody chain)."""
    got = evidence.download(
        session, principal=principal, evidence_id=evidence_id, files_dir=platform.settings.files_dir
    )
    if not got.intact:  # returned, not raised: the custody entry recording the failure must commit
        tampered = EvidenceTampered(
            f"evidence {evidence_id} no longer matches its SHA-256; the failure is in the custody log"
        )
        return errors.json_response(errors.problem_of(tampered))
    return FileResponse(
        got.path,
        media_type="application/octet-stream",
        filename=got.evidence.filename,
        headers={"X-Content-SHA256": got.evidence.sha256, "Content-Security-Policy": "sandbox"},
    )


@router.get("/evidence/{evidence_id}/custody")
def custody(evidence_id: int, session: DbSession, principal: Caller) -> list[CustodyOut]:
    """The chain of custody of an evidence item, oldest first."""
    return [
        CustodyOut.model_validate(c) for c in evidence.custody(session, principal=principal, evidence_id=evidence_id)
    ]


@router.post("/evidence/{evidence_id}/transfer")
def transfer(evidence_id: int, data: TransferIn, session: DbSession, principal: Caller) -> EvidenceOut:
    """Hand an evidence item to another holder; recorded in its chain of custody. Audited."""
    return EvidenceOut.model_validate(
        evidence.transfer(session, principal=principal, evidence_id=evidence_id, data=data)
    )


@router.get("/phases")
def phases(principal: Caller) -> list[str]:
    """The incident phases, in workflow order."""
    return [p.value for p in Phase]
