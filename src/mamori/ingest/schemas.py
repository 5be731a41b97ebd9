from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class IngestResult(BaseModel):
    batch_id: str
    accepted: int
    rejected: int
    format: str


class DeadLetterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_id: str
    sensor: str
    batch_id: str | None
    format: str
    reason: str
    where: str
    received_at: datetime
    raw_text: str
