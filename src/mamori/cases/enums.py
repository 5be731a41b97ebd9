from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CLOSED = "closed"  # every deployed responder released


class MeasureStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
