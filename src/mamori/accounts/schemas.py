from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mamori.accounts.enums import OrgKind, Role

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,63}$")


class OrgIn(BaseModel):
    id: str = Field(description="Short immutable slug, e.g. 'mof'.")
    name: str = Field(min_length=1, max_length=200)
    kind: OrgKind = OrgKind.MINISTRY

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = value.strip().lower()  # slugs ignore letter case: "MOF" is "mof"
        if not _SLUG.match(value):
            raise ValueError("must be 2-64 lowercase letters, digits or dashes, starting with a letter")
        return value


class OrgOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: str


class MembershipIn(BaseModel):
    org_id: str
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
    org_id: str
    sensor: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9_.-]*$")
    scopes: list[str] = Field(default_factory=lambda: ["ingest"])


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
