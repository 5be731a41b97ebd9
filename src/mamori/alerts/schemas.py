from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mamori.alerts.enums import AlertStatus, Resolution
from mamori.core.severity import Severity
from mamori.core.times import Instant


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
    since: Instant | None = None
    assignee: str | None = Field(
        default=None, pattern=r"^(me|none|\d{1,12})?$", description="'me', 'none' (unassigned) or a user id."
    )
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class TriageAction(BaseModel):
    action: Literal["acknowledge", "assign", "close", "reopen", "comment"]  # pydantic names the choices
    assignee_id: int | None = None
    resolution: Resolution | None = None
    comment: str | None = Field(default=None, max_length=10_000)


BULK_MAX = 500  # one page of the console list at its largest


class BulkTriage(TriageAction):
    """One triage action for many alerts at once; each alert is checked and answered on its own."""

    ids: list[int] = Field(min_length=1, max_length=BULK_MAX)


class BulkOutcome(BaseModel):
    id: int
    ok: bool
    status: str | None = None  # the alert's status afterwards, when it was changed
    error: str | None = None  # the error's class name, as in the API's error answers
    message: str | None = None


class BulkResult(BaseModel):
    done: int
    failed: int
    results: list[BulkOutcome]


class AssigneeOut(BaseModel):
    """A person an alert can be given to: named, never just a number."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    author: str
    body: str
    at: datetime
