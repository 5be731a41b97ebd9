"""Incident errors are the core hierarchy's; these names say which rule refused."""

from __future__ import annotations

from mamori.core.errors import Conflict, ValidationFailed


class TransitionRefused(Conflict):
    """The phase change is not allowed from the current phase."""


class ReasonRequired(ValidationFailed):
    """The change is destructive or undoes a decision (closing an incident, reopening it) and must say why."""


class EvidenceTampered(Conflict):
    """A stored evidence file no longer matches the SHA-256 recorded at upload."""


class UnsafeTarget(ValidationFailed):
    """A webhook target resolves to a private, loopback or link-local address that is not allowed."""


class AlertInAnotherIncident(Conflict):
    """An alert belongs to at most one incident; this one is in `incident_id` already."""

    def __init__(self, message: str, *, incident_id: int | None, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.incident_id = incident_id
