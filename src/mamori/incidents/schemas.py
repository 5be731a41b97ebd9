from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mamori.core.severity import Severity
from mamori.core.times import Instant
from mamori.incidents.enums import Category, ObservableKind, Pap, Phase, Resolution, Tlp


class IncidentIn(BaseModel):
    org_id: str = Field(max_length=64)
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    category: Category = Category.OTHER
    severity: Severity = Severity.MEDIUM
    tlp: Tlp = Tlp.AMBER
    pap: Pap = Pap.AMBER
    alert_ids: list[int] = Field(default_factory=list, max_length=500)


class IncidentUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    category: Category | None = None
    severity: Severity | None = None
    tlp: Tlp | None = None
    pap: Pap | None = None
    root_cause: str | None = Field(default=None, max_length=20_000)
    lead_id: int | None = None


class TransitionIn(BaseModel):
    phase: Phase
    resolution: Resolution | None = None
    note: str = Field(default="", max_length=5_000)
    reason: str = Field(
        default="", max_length=5_000, description="Why; required to close an incident and to reopen a closed one."
    )


class IncidentFilter(BaseModel):
    org: str | None = Field(default=None, max_length=64)
    phase: Phase | None = None
    category: Category | None = None
    severity: Severity | None = None
    q: str | None = Field(default=None, max_length=200, description="Text in the title, or the reference (12, #12).")
    closed_from: date | None = Field(default=None, description="Closed on or after this day (UTC).")
    closed_to: date | None = Field(default=None, description="Closed on or before this day (UTC).")
    before_id: int | None = Field(default=None, description="Keyset cursor: incidents with a smaller id.")
    limit: int = Field(default=50, ge=1, le=200)


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: str
    title: str
    description: str
    category: str
    severity: str
    tlp: str
    pap: str
    phase: str
    resolution: str | None
    root_cause: str
    lead_id: int | None
    created_by: str
    detected_at: datetime
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    contained_at: datetime | None
    recovered_at: datetime | None
    closed_at: datetime | None


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_before_id: int | None


class EntryIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    event_at: Instant | None = None


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    kind: str
    event_at: datetime
    recorded_at: datetime
    actor: str
    text: str
    details: dict[str, Any]


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    phase: Phase = Phase.TRIAGE
    owner_role: str = Field(default="", max_length=40)
    assignee_id: int | None = None
    due_at: Instant | None = None


class TaskAction(BaseModel):
    action: str = Field(pattern=r"^(assign|complete|skip|reopen|note)$")
    assignee_id: int | None = None
    notes: str = Field(default="", max_length=10_000)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    title: str
    phase: str
    owner_role: str
    assignee_id: int | None
    status: str
    due_at: datetime | None
    source: str
    notes: str
    done_by: str | None
    done_at: datetime | None


class ObservableIn(BaseModel):
    kind: ObservableKind
    value: str = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=2_000)


class Sighting(BaseModel):
    """Where else an observable was seen. National roles get incidents; others only a count of organisations."""

    other_orgs: int
    incidents: list[dict[str, Any]] | None = None


class ObservableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    kind: str
    value: str
    source: str
    note: str
    added_by: str
    added_at: datetime
    seen: Sighting | None = None


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    sha256: str
    size: int
    filename: str
    content_type: str
    description: str
    holder: str
    uploaded_by: str
    uploaded_at: datetime


class CustodyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    evidence_id: int
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


class TransferIn(BaseModel):
    to: str = Field(min_length=1, max_length=100, description="Who takes custody (a person or a lab).")
    note: str = Field(default="", max_length=2_000)
