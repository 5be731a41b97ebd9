"""Who may see and change which incident, and the audit trail of every change.

An incident is visible when the caller may `incidents.view` in its organisation, or holds a deployment grant
on it. Invisible incidents are reported as not found, so their existence never leaks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from mamori.accounts.principal import GRANTED_INCIDENT_ACTIONS, Principal
from mamori.audit import service as audit
from mamori.bus import subjects
from mamori.core.errors import NotFound, PermissionDenied
from mamori.incidents.models import Incident
from mamori.storage.outbox import enqueue


def visible_query(principal: Principal, action: str = "incidents.view") -> Select[Incident]:
    query = select(Incident)
    orgs = principal.visible_orgs(action)
    if orgs is None:
        return query
    condition: ColumnElement[bool] = Incident.org_id.in_(orgs)
    if principal.incident_grants and action in GRANTED_INCIDENT_ACTIONS:
        condition = or_(condition, Incident.id.in_(principal.incident_grants))
    return query.where(condition)


def get(session: Session, *, principal: Principal, incident_id: int, action: str = "incidents.view") -> Incident:
    """The incident if the caller may see it (NotFound otherwise) and may do `action` on it (else 403)."""
    incident = session.get(Incident, incident_id)
    if incident is None or not principal.can_incident("incidents.view", incident.org_id, incident.id):
        raise NotFound(f"incident {incident_id} not found")
    require(principal, incident, action)
    return incident


def require(principal: Principal, incident: Incident, action: str) -> None:
    if not principal.can_incident(action, incident.org_id, incident.id):
        raise PermissionDenied(f"{action} is not allowed on incident {incident.id}")


def changed(
    session: Session,
    *,
    principal: Principal | None,
    incident: Incident,
    action: str,
    details: dict[str, Any] | None = None,
    object_type: str = "incident",
    object_id: int | None = None,
) -> None:
    """Audit a change and announce it on the bus (after commit, through the outbox)."""
    audit.record(
        session,
        actor=principal.name if principal else "system",
        action=action,
        object_type=object_type,
        object_id=object_id if object_id is not None else incident.id,
        org_id=incident.org_id,
        details={"incident_id": incident.id, **(details or {})},
    )
    enqueue(
        session,
        subject=subjects.INCIDENTS_CHANGED,
        payload={"incident_id": incident.id, "org": incident.org_id, "change": action},
    )


def actor_of(principal: Principal | None) -> str:
    return principal.name if principal else "system"
