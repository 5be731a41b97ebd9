from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from mamori.accounts import service as accounts
from mamori.accounts.schemas import OrgIn, OrgOut, PersonOut, TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from mamori.api.deps import Caller, DbSession, UserCaller

router = APIRouter(tags=["accounts"])


class ActiveIn(BaseModel):
    active: bool
    reason: str | None = Field(default=None, max_length=2000, description="Required when deactivating.")


class RevokeIn(BaseModel):
    reason: str = Field(max_length=2000, description="Why the token is revoked; kept in the audit log.")


@router.get("/orgs")
def list_orgs(session: DbSession, principal: Caller) -> list[OrgOut]:
    """The organisations the caller may see: every one for the national centre, else the caller's own."""
    return [OrgOut.model_validate(o) for o in accounts.list_orgs(session, principal=principal)]


@router.get("/orgs/{org_id}")
def get_org(org_id: str, session: DbSession, principal: Caller) -> OrgOut:
    """One organisation, if the caller may see it."""
    return OrgOut.model_validate(accounts.get_org(session, principal=principal, org_id=org_id))


@router.post("/orgs", status_code=201)
def create_org(data: OrgIn, session: DbSession, principal: UserCaller) -> OrgOut:
    """Add an organisation (admins only). Audited."""
    return OrgOut.model_validate(accounts.create_org(session, principal=principal, data=data))


@router.get("/users")
def list_users(session: DbSession, principal: UserCaller) -> list[UserOut]:
    """Console users of the organisations where the caller may view users."""
    return [UserOut.model_validate(u) for u in accounts.list_users(session, principal=principal)]


@router.get("/users/search")
def search_users(
    session: DbSession, principal: UserCaller, q: Annotated[str, Query(max_length=100)] = "", limit: int = 20
) -> list[PersonOut]:
    """People by username or display name (any case), for pickers: the users of organisations you may view,
    and - for roster managers - every responder."""
    return [accounts.person_out(u) for u in accounts.search_users(session, principal=principal, text=q, limit=limit)]


@router.get("/users/{user_id}")
def get_user(user_id: int, session: DbSession, principal: UserCaller) -> UserOut:
    """One console user, with their memberships."""
    return UserOut.model_validate(accounts.get_user(session, principal=principal, user_id=user_id))


@router.post("/users", status_code=201)
def create_user(data: UserIn, session: DbSession, principal: UserCaller) -> UserOut:
    """Create a console user with at least one role in an organisation. Audited."""
    return UserOut.model_validate(accounts.create_user(session, principal=principal, data=data))


@router.post("/users/{user_id}/active")
def set_active(user_id: int, data: ActiveIn, session: DbSession, principal: UserCaller) -> UserOut:
    """Deactivate (or reactivate) a user: a deactivated user can no longer log in. Audited."""
    user = accounts.set_user_active(
        session, principal=principal, user_id=user_id, active=data.active, reason=data.reason
    )
    return UserOut.model_validate(user)


@router.get("/tokens")
def list_tokens(session: DbSession, principal: UserCaller) -> list[TokenOut]:
    """API tokens of the organisations the caller manages (hashes are never shown)."""
    return [TokenOut.model_validate(t) for t in accounts.list_tokens(session, principal=principal)]


@router.post("/tokens", status_code=201)
def create_token(data: TokenIn, session: DbSession, principal: UserCaller) -> TokenCreated:
    """Create an API token. Scopes: `ingest` (the default: a sensor sending events) or `read` (an integration
    reading alerts, events, incidents and websites). The secret is answered once as `token`; only its hash is kept.
    Audited."""
    secret, token = accounts.create_token(session, principal=principal, data=data)
    return TokenCreated.model_validate({**TokenOut.model_validate(token).model_dump(), "token": secret})


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, data: RevokeIn, session: DbSession, principal: UserCaller) -> TokenOut:
    """Revoke an API token at once; it can never be used again. The body's ``reason`` is required and audited."""
    token = accounts.revoke_token(session, principal=principal, token_id=token_id, reason=data.reason)
    return TokenOut.model_validate(token)
