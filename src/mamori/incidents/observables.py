"""Observables of an incident, extracted from its alerts or added by hand, and where else they were seen.

"Seen in other incidents" crosses organisations: national roles get the other incidents themselves; everyone
else gets only the number of other organisations, so a ministry learns that it is not alone without learning
who else was hit.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.alerts.models import Alert
from mamori.core.errors import Conflict, ValidationFailed
from mamori.incidents import access, timeline
from mamori.incidents.enums import EntryKind, ObservableKind
from mamori.incidents.models import Incident, Observable
from mamori.incidents.schemas import ObservableIn, Sighting

# Entity names (alert entities and Sigma-taxonomy event fields) and the observable kind they hold.
ENTITY_KINDS: Mapping[str, ObservableKind] = {
    "src_ip": ObservableKind.IP,
    "dst_ip": ObservableKind.IP,
    "ip": ObservableKind.IP,
    "c-ip": ObservableKind.IP,
    "host": ObservableKind.HOST,
    "hostname": ObservableKind.HOST,
    "computer": ObservableKind.HOST,
    "domain": ObservableKind.DOMAIN,
    "url": ObservableKind.URL,
    "user": ObservableKind.ACCOUNT,
    "account": ObservableKind.ACCOUNT,
    "email": ObservableKind.EMAIL,
    "sender": ObservableKind.EMAIL,
    "hash": ObservableKind.HASH,
    "sha256": ObservableKind.HASH,
    "md5": ObservableKind.HASH,
}


def normalise(kind: ObservableKind, value: str) -> str:
    """One spelling per value, so the same IP or domain matches across organisations."""
    value = value.strip()
    if kind is ObservableKind.IP:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise ValidationFailed(f"not an IP address: {value[:100]!r}", where="value") from exc
    if kind in (ObservableKind.DOMAIN, ObservableKind.HOST, ObservableKind.EMAIL, ObservableKind.HASH):
        return value.lower().rstrip(".")
    return value


def from_entities(entities: Mapping[str, Any]) -> list[tuple[ObservableKind, str]]:
    found = []
    for key, raw in entities.items():
        kind = ENTITY_KINDS.get(key.lower())
        if kind is None or not isinstance(raw, str | int) or not str(raw).strip():
            continue
        try:
            found.append((kind, normalise(kind, str(raw))[:500]))
        except ValidationFailed:
            continue  # an entity that does not parse is no observable; the alert keeps it anyway
    return found


def extract_from_alerts(session: Session, *, incident: Incident, alerts: Iterable[Alert], actor: str) -> int:
    present = {
        (o.kind, o.value) for o in session.scalars(select(Observable).where(Observable.incident_id == incident.id))
    }
    added = 0
    for alert in alerts:
        for kind, value in from_entities(alert.entities):
            if (kind.value, value) in present:
                continue
            present.add((kind.value, value))
            session.add(
                Observable(
                    incident_id=incident.id,
                    org_id=incident.org_id,
                    kind=kind.value,
                    value=value,
                    source=f"alert:{alert.id}",
                    added_by=actor,
                )
            )
            added += 1
    return added


def add(session: Session, *, principal: Principal, incident_id: int, data: ObservableIn) -> Observable:
    incident = access.get(session, principal=principal, incident_id=incident_id, action="incidents.work")
    value = normalise(data.kind, data.value)
    row = Observable(
        incident_id=incident.id,
        org_id=incident.org_id,
        kind=data.kind.value,
        value=value,
        note=data.note,
        added_by=principal.name,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"{data.kind.value} {value!r} is already on this incident") from None
    timeline.record(
        session,
        incident=incident,
        kind=EntryKind.OBSERVABLE,
        actor=principal.name,
        text=f"Observable added: {data.kind.value} {value}",
    )
    access.changed(
        session,
        principal=principal,
        incident=incident,
        action="incident.observable.add",
        object_type="observable",
        object_id=row.id,
        details={"kind": data.kind.value},
    )
    return row


def list_(session: Session, *, principal: Principal, incident_id: int) -> Sequence[Observable]:
    incident = access.get(session, principal=principal, incident_id=incident_id)
    return session.scalars(
        select(Observable).where(Observable.incident_id == incident.id).order_by(Observable.id)
    ).all()


def seen_elsewhere(
    session: Session, *, principal: Principal, incident: Incident, observables: Sequence[Observable]
) -> dict[int, Sighting]:
    """For each observable id: other incidents with the same (kind, value), shown per the caller's scope."""
    if not observables:
        return {}
    pairs = [(o.kind, o.value) for o in observables]
    query = (
        select(Observable.kind, Observable.value, Observable.incident_id, Observable.org_id, Incident.title)
        .join(Incident, Incident.id == Observable.incident_id)
        .where(tuple_(Observable.kind, Observable.value).in_(pairs), Observable.incident_id != incident.id)
        .limit(5000)
    )
    hits: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for kind, value, other_id, org, title in session.execute(query).tuples():
        hits[(kind, value)].append((other_id, org, title))
    national = principal.national_can("observables.correlate")
    out = {}
    for o in observables:
        found = hits.get((o.kind, o.value), [])
        other_orgs = len({org for _, org, _ in found if org != incident.org_id})
        listed = [{"incident_id": i, "org_id": org, "title": t} for i, org, t in found] if national else None
        out[o.id] = Sighting(other_orgs=other_orgs, incidents=listed)
    return out
