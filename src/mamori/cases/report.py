"""The incident report as data: the web layer renders it to HTML and PDF (domain code never imports Jinja)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.accounts.models import User
from mamori.accounts.principal import Principal
from mamori.alerts.models import Alert
from mamori.cases import measures
from mamori.cases import service as response
from mamori.cases.models import AssistanceRequest, Deployment, Measure
from mamori.incidents import evidence, observables, tasks, timeline
from mamori.incidents import metrics as incident_metrics
from mamori.incidents import service as incidents
from mamori.incidents.models import Evidence, Incident, Observable, Task, TimelineEntry


@dataclass(frozen=True)
class IncidentReport:
    incident: Incident
    generated_at: datetime
    generated_by: str
    metrics: incident_metrics.IncidentMetrics
    alerts: Sequence[Alert]
    timeline: Sequence[TimelineEntry]
    tasks: Sequence[Task]
    observables: Sequence[Observable]
    evidence: Sequence[Evidence]
    measures: Sequence[Measure]
    requests: Sequence[AssistanceRequest]
    deployments: Sequence[Deployment]
    responders: dict[int, str]  # user id -> username, for the deployments


def build(session: Session, *, principal: Principal, incident_id: int, now: datetime) -> IncidentReport:
    incident = incidents.get(session, principal=principal, incident_id=incident_id)
    requests, deployments = response.for_incident(session, principal=principal, incident_id=incident.id)
    ids = {d.user_id for d in deployments}
    query = select(User.id, User.username).where(User.id.in_(ids))
    names = {user_id: username for user_id, username in session.execute(query).tuples()}
    return IncidentReport(
        incident=incident,
        generated_at=now,
        generated_by=principal.name,
        metrics=incident_metrics.for_incident(incident, now),
        alerts=incidents.alerts_of(session, principal=principal, incident_id=incident.id),
        timeline=timeline.list_(session, principal=principal, incident_id=incident.id, limit=1000),
        tasks=tasks.list_(session, principal=principal, incident_id=incident.id),
        observables=observables.list_(session, principal=principal, incident_id=incident.id),
        evidence=evidence.list_(session, principal=principal, incident_id=incident.id),
        measures=measures.list_(session, principal=principal, incident_id=incident.id),
        requests=requests,
        deployments=deployments,
        responders=names,
    )
