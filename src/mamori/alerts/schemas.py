from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mamori.alerts.enums import AlertStatus, Resolution
from mamori.core.severity import Severity


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: str
    producer: str
    rule_id: str
    rule_title: str
    severity: str
    status: str
    resolution: str | None
    assignee_id: int | None
    count: int
    first_seen: datetime
    last_seen: datetime
    entities: dict[str, Any]
    tags: list[Any]
    description: str


class AlertFilter(BaseModel):
    org: str | None = None
    status: AlertStatus | None = None
    min_severity: Severity | None = None
    rule_id: str | None = None
    q: str | None = Field(default=None, max_length=200, description="Substring of the title or an entity.")
    since: datetime | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class TriageAction(BaseModel):
    action: str = Field(pattern=r"^(acknowledge|assign|close|reopen|comment)$")
    assignee_id: int | None = None
    resolution: Resolution | None = None
    comment: str | None = Field(default=None, max_length=10_000)


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author: str
    body: str
    at: datetime
