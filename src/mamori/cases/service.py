"""Assistance requests and deployments: a ministry asks for help on an incident, the national centre approves
and deploys responders from the roster, who reach that incident (and only it) until they are released.

Access is a grant row in accounts (`accounts.service.grant`), read into `Principal.incident_grants`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.enums import OrgKind
from mamori.accounts.models import Membership, Organisation, User
from mamori.accounts.principal import PERMISSIONS, Principal
from mamori.cases import roster
from mamori.cases.enums import RequestStatus
from mamori.cases.models import AssistanceRequest, Deployment, ResponderProfile
from mamori.cases.schemas import ClosingPreview, DecisionIn, RequestIn, RosterEntry
from mamori.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.incidents import access, notifications, timeline, workflow
from mamori.incidents import service as incidents
from mamori.incidents.enums import EntryKind, Phase
from mamori.incidents.errors import TransitionRefused
from mamori.incidents.models import Incident
from mamori.incidents.schemas import TransitionIn
from mamori.storage.db import utcnow


def request(session: Session, *, principal: Principal, incident_id: int, data: RequestIn) -> AssistanceRequest:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    principal.require("assistance.request", incident.org_id)
    if session.scalar(
        select(AssistanceRequest.id).where(
            AssistanceRequest.incident_id == incident.id, AssistanceRequest.status == RequestStatus.REQUESTED.value
        )
    ):
        raise Conflict("a request for this incident is already waiting for a decision")
    row = AssistanceRequest(
        incident_id=incident.id,
        org_id=incident.org_id,
        requested_by=principal.name,
        reason=data.reason,
        skills=sorted({s.lower() for s in data.skills}),
        people=data.people,
    )
    session.add(row)
    session.flush()
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Assistance requested ({data.people} responder(s); skills: {', '.join(row.skills) or 'any'})",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="assistance.request",
        object_type="assistance_request",
        object_id=row.id,
    )
    notifications.notify(
        session,
        event="assistance.requested",
        subject=f"[mamori] {incident.org_id} requests assistance on incident {incident.id}",
        body=data.reason,
        org_id=incident.org_id,
        incident_id=incident.id,
        user_ids=_national_deciders(session),
    )
    return row


def _national_deciders(session: Session) -> list[int | None]:
    """Who decides on requests: holders of a deciding role in a national organisation."""
    deciders = {r.value for r in PERMISSIONS["assistance.decide"]}
    query = (
        select(Membership.user_id)
        .join(Organisation, Organisation.id == Membership.org_id)
        .where(Organisation.kind == OrgKind.NATIONAL.value, Membership.role.in_(deciders))
    )
    return list(session.scalars(query.distinct()))


def list_(
    session: Session, *, principal: Principal, status: RequestStatus | None = None, limit: int = 200
) -> Sequence[AssistanceRequest]:
    query = select(AssistanceRequest).order_by(AssistanceRequest.id.desc()).limit(limit)
    orgs = principal.visible_orgs("assistance.view")
    if orgs is not None:
        query = query.where(AssistanceRequest.org_id.in_(orgs))
    if status is not None:
        query = query.where(AssistanceRequest.status == status.value)
    return session.scalars(query).all()


def get(session: Session, *, principal: Principal, request_id: int) -> AssistanceRequest:
    row = session.get(AssistanceRequest, request_id)
    if row is None or not principal.can("assistance.view", row.org_id):
        raise NotFound(f"assistance request {request_id} not found")
    return row


def for_incident(
    session: Session, *, principal: Principal, incident_id: int
) -> tuple[Sequence[AssistanceRequest], Sequence[Deployment]]:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    requests = session.scalars(
        select(AssistanceRequest).where(AssistanceRequest.incident_id == incident.id).order_by(AssistanceRequest.id)
    ).all()
    deployments = session.scalars(
        select(Deployment).where(Deployment.incident_id == incident.id).order_by(Deployment.id)
    ).all()
    return requests, deployments


def decide(session: Session, *, principal: Principal, request_id: int, data: DecisionIn) -> AssistanceRequest:
    row = get(session, principal=principal, request_id=request_id)
    roster.require_national(principal, "assistance.decide")
    if row.status != RequestStatus.REQUESTED.value:
        raise Conflict(f"request {row.id} is {row.status}, not waiting for a decision")
    row.status = (RequestStatus.APPROVED if data.approve else RequestStatus.REJECTED).value
    row.decided_by, row.decided_at, row.decision_note = principal.name, utcnow(), data.note
    incident = _incident(session, row)
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Assistance request {row.status}" + (f": {data.note}" if data.note else ""),
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action=f"assistance.{row.status}",
        object_type="assistance_request",
        object_id=row.id,
    )
    requester = session.scalar(select(User.id).where(User.username == row.requested_by))
    notifications.notify(
        session,
        event=f"assistance.{row.status}",
        subject=f"[mamori] Assistance request {row.id} {row.status}",
        body=f"{principal.name} {row.status} the request for incident {incident.id}. {data.note}",
        org_id=row.org_id,
        incident_id=incident.id,
        user_ids=[requester],
    )
    return row


def _incident(session: Session, row: AssistanceRequest) -> Incident:
    incident = session.get(Incident, row.incident_id)
    assert incident is not None  # FK
    return incident


def suggestions(session: Session, *, principal: Principal, request_id: int) -> list[RosterEntry]:
    row = get(session, principal=principal, request_id=request_id)
    deployed = {d.user_id for d in _active(session, row.id)}
    return roster.suggest(
        roster.entries(session, principal=principal), skills=row.skills, org_id=row.org_id, exclude=deployed
    )


def _active(session: Session, request_id: int) -> Sequence[Deployment]:
    return session.scalars(
        select(Deployment).where(Deployment.request_id == request_id, Deployment.released_at.is_(None))
    ).all()


def deploy(session: Session, *, principal: Principal, request_id: int, user_id: int) -> Deployment:
    row = get(session, principal=principal, request_id=request_id)
    roster.require_national(principal, "assistance.decide")
    if row.status != RequestStatus.APPROVED.value:
        raise Conflict(f"request {row.id} is {row.status}; only approved requests get responders")
    profile = session.get(ResponderProfile, user_id)
    load = roster.loads(session).get(user_id, 0)
    if profile is None or not profile.available or load >= profile.max_load:
        who = _username(session, user_id)
        raise ValidationFailed(f"{who} is not an available responder on the roster", where="user_id")
    if any(d.user_id == user_id for d in _active(session, row.id)):
        raise Conflict(f"{_username(session, user_id)} is deployed on this request already")
    incident = _incident(session, row)
    deployment = Deployment(
        request_id=row.id, incident_id=incident.id, org_id=incident.org_id, user_id=user_id, deployed_by=principal.name
    )
    session.add(deployment)
    session.flush()
    accounts.grant(
        session,
        actor=principal.name,
        user_id=user_id,
        object_type="incident",
        object_id=incident.id,
        org_id=incident.org_id,
        reason=f"deployment {deployment.id}",
    )
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Responder {_username(session, user_id)} deployed",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="assistance.deploy",
        object_type="deployment",
        object_id=deployment.id,
        details={"user_id": user_id},
    )
    notifications.notify(
        session,
        event="assistance.deployed",
        subject=f"[mamori] You are deployed to incident {incident.id}",
        body=f"{principal.name} deployed you to incident {incident.id} of {incident.org_id}: {incident.title}",
        org_id=incident.org_id,
        incident_id=incident.id,
        user_ids=[user_id],
    )
    return deployment


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.username if user else str(user_id)


def release(session: Session, *, principal: Principal, deployment_id: int) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None or not principal.can("assistance.view", deployment.org_id):
        raise NotFound(f"deployment {deployment_id} not found")
    if not (principal.national_can("assistance.decide") or principal.can("assistance.request", deployment.org_id)):
        raise PermissionDenied("only the national centre or the requesting organisation releases responders")
    if deployment.released_at is not None:
        raise Conflict(f"deployment {deployment.id} was released already")
    incident = session.get(Incident, deployment.incident_id)
    assert incident is not None  # FK
    _end_deployment(session, principal=principal, deployment=deployment, incident=incident, why="")
    return deployment


def _end_deployment(
    session: Session, *, principal: Principal, deployment: Deployment, incident: Incident, why: str
) -> None:
    """Release one responder: the deployment ends, the grant to the incident is revoked, both audited."""
    deployment.released_at, deployment.released_by = utcnow(), principal.name
    accounts.revoke_grants(
        session,
        actor=principal.name,
        user_id=deployment.user_id,
        object_type="incident",
        object_id=deployment.incident_id,
    )
    user = session.get(User, deployment.user_id)
    name = user.username if user else str(deployment.user_id)
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.RESPONSE,
        actor=principal.name,
        text=f"Responder {name} released" + (f" ({why})" if why else ""),
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="assistance.release",
        object_type="deployment",
        object_id=deployment.id,
        details={"user_id": deployment.user_id, **({"reason": why} if why else {})},
    )
    request_row = session.get(AssistanceRequest, deployment.request_id)
    if request_row is not None and not _active(session, request_row.id):
        request_row.status = RequestStatus.CLOSED.value


def transition(session: Session, *, principal: Principal, incident_id: int, data: TransitionIn) -> Incident:
    """Move an incident through its phases; closing it (with a resolution and a reason) ends the response on it
    (see `end_response`).

    The one entry point for phase changes of the API and the console: the incidents layer cannot reach
    deployments (they live here, above it), and a closed incident must leave nobody deployed on it."""
    incident = incidents.transition(session, principal=principal, incident_id=incident_id, data=data)
    if incident.phase == Phase.CLOSED.value:
        end_response(session, principal=principal, incident=incident)
    return incident


def deployed_on(session: Session, *, principal: Principal, incident_id: int) -> int:
    """How many responders are deployed on the incident now (the console warns that closing releases them)."""
    incident = access.get(session, principal=principal, incident_id=incident_id)
    query = select(func.count()).where(Deployment.incident_id == incident.id, Deployment.released_at.is_(None))
    return int(session.scalar(query) or 0)


def closing_preview(session: Session, *, principal: Principal, incident_id: int) -> ClosingPreview:
    """What closing would do (the console's confirmation page), refused like the move itself would be: only
    for those who may manage the incident, and only while it is open."""
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.manage")
    if Phase.CLOSED not in workflow.allowed_next(Phase(incident.phase)):
        raise TransitionRefused(f"incident {incident.id} is closed already", where="phase")
    names = responder_names(session, deployments=_deployed(session, incident))
    return ClosingPreview(responders=sorted(names.values()), waiting=len(_waiting(session, incident)))


def _deployed(session: Session, incident: Incident) -> Sequence[Deployment]:
    query = select(Deployment).where(Deployment.incident_id == incident.id, Deployment.released_at.is_(None))
    return session.scalars(query.order_by(Deployment.id)).all()


def _waiting(session: Session, incident: Incident) -> Sequence[AssistanceRequest]:
    query = select(AssistanceRequest).where(
        AssistanceRequest.incident_id == incident.id, AssistanceRequest.status == RequestStatus.REQUESTED.value
    )
    return session.scalars(query.order_by(AssistanceRequest.id)).all()


def end_response(session: Session, *, principal: Principal, incident: Incident) -> tuple[int, int]:
    """The incident was closed: release every responder still deployed (their access ends with it) and
    withdraw requests still waiting for a decision. Returns (released, withdrawn); each step is audited."""
    why = f"incident {incident.id} closed"
    active = _deployed(session, incident)
    for deployment in active:
        _end_deployment(session, principal=principal, deployment=deployment, incident=incident, why=why)
    waiting = _waiting(session, incident)
    for row in waiting:
        row.status, row.decided_by, row.decided_at = RequestStatus.CLOSED.value, principal.name, utcnow()
        row.decision_note = f"withdrawn: {why}"
        timeline.record(
            session,
            incident=incident,
            kind=EntryKind.RESPONSE,
            actor=principal.name,
            text=f"Assistance request #{row.id} withdrawn ({why})",
        )
        access.changed(
            session,
            principal=principal,
            incident=incident,
            action="assistance.withdraw",
            object_type="assistance_request",
            object_id=row.id,
            details={"reason": why},
        )
    return len(active), len(waiting)


def responder_names(session: Session, *, deployments: Sequence[Deployment]) -> dict[int, str]:
    """Display names of the people on deployments the caller was already allowed to read, so pages show
    names, not user ids."""
    ids = {d.user_id for d in deployments}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids))).tuples()
    return {uid: (display or username) for uid, username, display in rows}


def my_deployments(session: Session, *, principal: Principal) -> Sequence[Deployment]:
    if principal.user_id is None:
        return []
    query = select(Deployment).where(Deployment.user_id == principal.user_id).order_by(Deployment.id.desc()).limit(100)
    return session.scalars(query).all()


def for_request(session: Session, *, request_id: int) -> Sequence[Deployment]:
    """Deployments of a request the caller was already allowed to read (see `get`)."""
    return session.scalars(select(Deployment).where(Deployment.request_id == request_id).order_by(Deployment.id)).all()
