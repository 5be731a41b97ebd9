"""Grouping rules: open (or extend) an incident automatically from alerts.

An alert matching a rule gets a group key (organisation + rule name + the rule's fields of the alert). An open
incident with that key whose last grouped alert is within the window takes the alert; otherwise a new incident
is opened. Exercise alerts never open real incidents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mamori.alerts.models import Alert
from mamori.core.severity import Severity
from mamori.incidents import service
from mamori.incidents.categories import category_for
from mamori.incidents.enums import Phase
from mamori.incidents.models import Incident, IncidentAlert
from mamori.incidents.schemas import IncidentIn


@dataclass(frozen=True)
class GroupingRule:
    name: str
    min_severity: Severity
    fields: tuple[str, ...]  # "rule_id", "producer" or "entity:<name>"
    window: timedelta
    producer: str | None = None  # only alerts of this producer
    rule_contains: str = ""  # only alerts whose rule id contains this text

    def matches(self, alert: Alert) -> bool:
        return (
            Severity.parse(alert.severity).rank >= self.min_severity.rank
            and (self.producer is None or alert.producer == self.producer)
            and self.rule_contains.lower() in alert.rule_id.lower()
            and alert.exercise_id is None
        )

    def key(self, alert: Alert) -> str:
        values = [
            str(alert.entities.get(f[7:], "")) if f.startswith("entity:") else str(getattr(alert, f))
            for f in self.fields
        ]
        basis = "|".join([alert.org_id, self.name, *values])
        return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


# Deliberately narrow: a defaced website always needs a response; otherwise only critical alerts open incidents
# on their own, and analysts escalate the rest by hand (grouping everything high would bury the board).
DEFAULT_RULES: tuple[GroupingRule, ...] = (
    GroupingRule(
        "website-defacement",
        Severity.MEDIUM,
        ("rule_id", "entity:url"),
        timedelta(days=2),
        producer="website",
        rule_contains="deface",  # the website watch reports "website.defaced"
    ),
    GroupingRule("same-rule-same-host", Severity.CRITICAL, ("rule_id", "entity:host"), timedelta(hours=24)),
)


def group_alert(session: Session, *, alert: Alert, rules: Sequence[GroupingRule] = DEFAULT_RULES) -> Incident | None:
    """Returns the incident the alert went into, or None when no rule matched (or it was grouped before)."""
    if session.scalar(select(IncidentAlert.incident_id).where(IncidentAlert.alert_id == alert.id)) is not None:
        return None  # redelivered message: already grouped
    rule = next((r for r in rules if r.matches(alert)), None)
    if rule is None:
        return None
    key = rule.key(alert)
    open_incident = session.scalar(
        select(Incident)
        .where(Incident.group_key == key, Incident.phase != Phase.CLOSED.value)
        .order_by(Incident.id.desc())
        .limit(1)
    )
    if open_incident is not None and _last_alert_at(session, open_incident) >= alert.first_seen - rule.window:
        return service.attach_alerts(session, principal=None, incident_id=open_incident.id, alert_ids=[alert.id])
    data = IncidentIn(
        org_id=alert.org_id,
        title=alert.rule_title[:300],
        description=f"Opened by grouping rule {rule.name!r}.",
        category=category_for(alert),
        severity=Severity.parse(alert.severity),
        alert_ids=[alert.id],
    )
    return service.create(session, principal=None, data=data, group_key=key)


def _last_alert_at(session: Session, incident: Incident) -> datetime:
    last = session.scalar(
        select(Alert.last_seen)
        .join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident.id)
        .order_by(Alert.last_seen.desc())
        .limit(1)
    )
    return last or incident.created_at
