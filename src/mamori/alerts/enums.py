from __future__ import annotations

from enum import StrEnum


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class AlertResolution(StrEnum):
    TRUE_POSITIVE = "true_positive"
    BENIGN_POSITIVE = "benign_positive"  # real activity, authorised (a scan by the ministry's own tester)
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    ESCALATED = "escalated"  # moved into an incident


# The name the code uses; the class is named for the OpenAPI document, where two "Resolution"s collided.
Resolution = AlertResolution
