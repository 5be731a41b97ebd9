from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    DEFACEMENT = "defacement"
    DDOS = "ddos"
    MALWARE = "malware"  # malware or intrusion
    # Attempts on accounts and exposed applications (brute force, password spraying, web exploits):
    # "不正アクセス", the term of Japan's Unauthorized Computer Access Law.
    UNAUTHORISED_ACCESS = "unauthorised_access"
    DATA_LEAK = "data_leak"
    PHISHING = "phishing"
    OTHER = "other"


class Phase(StrEnum):
    """NIST SP 800-61 phases, in order; `closed` needs a resolution."""

    TRIAGE = "triage"
    CONTAINMENT = "containment"
    ERADICATION = "eradication"
    RECOVERY = "recovery"
    POST_INCIDENT = "post_incident"
    CLOSED = "closed"


class IncidentResolution(StrEnum):
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    NOT_ACTIONABLE = "not_actionable"


# The name the code uses; the class is named for the OpenAPI document, where two "Resolution"s collided.
Resolution = IncidentResolution


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


class Pap(StrEnum):
    """Permissible Actions Protocol."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


class EntryKind(StrEnum):
    """What put an entry on the timeline; `manual` entries are written by people."""

    ALERT = "alert"
    STATUS = "status"
    TASK = "task"
    EVIDENCE = "evidence"
    NOTE = "note"
    OBSERVABLE = "observable"
    RESPONSE = "response"  # assistance requests, deployments, measures
    MANUAL = "manual"


class ObservableKind(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH = "hash"
    EMAIL = "email"
    ACCOUNT = "account"
    HOST = "host"
