from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class ProfileIn(BaseModel):
    user_id: int
    home_org_id: str = Field(max_length=64)
    skills: list[str] = Field(default_factory=list, max_length=30)
    available: bool = True
    max_load: int = Field(default=2, ge=1, le=10)


class RosterEntry(BaseModel):
    user_id: int
    username: str
    display_name: str
    home_org_id: str
    skills: list[str]
    available: bool
    max_load: int
    load: int
    incidents: list[int] = Field(default_factory=list, description="Incidents the responder is deployed on now.")
    score: float | None = None
    reasons: list[str] = Field(default_factory=list)


class ClosingPreview(BaseModel):
    """What closing an incident will do, shown before anyone confirms it."""

    responders: list[str] = Field(description="Names of the responders deployed now: released, their access ends.")
    waiting: int = Field(description="Assistance requests still waiting for a decision: withdrawn.")


class RequestIn(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)
    skills: list[str] = Field(default_factory=list, max_length=20)
    people: int = Field(default=1, ge=1, le=20)


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=5_000)


class DeployIn(BaseModel):
    user_id: int


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    org_id: str
    requested_by: str
    reason: str
    skills: list[str]
    people: int
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    request_id: int
    incident_id: int
    org_id: str
    user_id: int
    deployed_by: str
    deployed_at: datetime
    released_at: datetime | None
    released_by: str | None


class MeasureIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=200)
    due_on: date


class MeasureDone(BaseModel):
    note: str = Field(default="", max_length=5_000)


class MeasureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    org_id: str
    title: str
    owner: str
    due_on: date
    status: str
    done_at: datetime | None
    done_note: str
    created_by: str
    created_at: datetime
