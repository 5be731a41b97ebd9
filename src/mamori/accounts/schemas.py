from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from mamori.accounts.enums import OrgKind, Role, TokenScope

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,63}$")


class OrgIn(BaseModel):
    id: str = Field(description="Short immutable slug, e.g. 'mof'.")
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind = OrgKind.MINISTRY

    @field_validator("id", mode="before")
    @classmethod
    def _slug(cls, value: object) -> object:
        value = _folded(value)  # slugs are case-insensitive: "MOF" and "mof" are one organisation
        if isinstance(value, str) and not _SLUG.match(value):
            raise ValueError("must be 2-64 letters, digits or dashes, starting with a letter")
        return value


def _folded(value: object) -> object:
    """An organisation slug as stored (lower case, no surrounding spaces); other types are left to pydantic."""
    return value.strip().lower() if isinstance(value, str) else value


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: str


# An organisation named by another object (a membership, a token): matched case-insensitively too.
OrgRef = Annotated[str, BeforeValidator(_folded)]


class MembershipIn(BaseModel):
    org_id: OrgRef
    role: Role


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=200)
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=200)
    memberships: list[MembershipIn] = Field(min_length=1)


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    org_id: str
    role: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    email: str
    active: bool
    memberships: list[MembershipOut]


class PersonOut(BaseModel):
    """A search hit for pickers: enough to recognise someone, not their account details."""

    id: int
    username: str
    display_name: str
    orgs: list[str]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    org_id: OrgRef
    sensor: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9_.-]*$")
    scopes: list[TokenScope] = Field(
        default_factory=lambda: [TokenScope.INGEST],
        min_length=1,
        max_length=len(TokenScope),
        description="`ingest` (a sensor, the default) or `read` (an integration reading its organisation's data).",
    )


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    org_id: str
    sensor: str
    scopes: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is kept.")
