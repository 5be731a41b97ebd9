from __future__ import annotations

from enum import StrEnum


class OrgKind(StrEnum):
    NATIONAL = "national"  # the national centre: its analysts see every organisation
    MINISTRY = "ministry"
    AGENCY = "agency"


class Role(StrEnum):
    NATIONAL_ANALYST = "national_analyst"
    ORG_OFFICER = "org_officer"
    RESPONDER = "responder"
    TRAINER = "trainer"
    AUDITOR = "auditor"
    ADMIN = "admin"


# Roles that, held in the national organisation, grant visibility of every organisation.
NATIONAL_ROLES = frozenset({Role.NATIONAL_ANALYST, Role.ADMIN, Role.AUDITOR, Role.RESPONDER, Role.TRAINER})


class TokenScope(StrEnum):
    """What an API token may do. A token never acts beyond its one organisation's visibility."""

    INGEST = "ingest"  # a sensor: POST /api/v1/ingest, nothing else
    READ = "read"  # an integration: read alerts, events, incidents, organisations and websites, never change anything
