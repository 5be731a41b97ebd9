from __future__ import annotations

from enum import StrEnum


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Resolution(StrEnum):
    TRUE_POSITIVE = "true_positive"
    BENIGN_POSITIVE = "benign_positive"  # real activity, authorised (a scan by the ministry's own tester)
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    ESCALATED = "escalated"  # moved into an incident
