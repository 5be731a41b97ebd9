"""Accounts service: every function takes the acting principal and enforces visibility itself."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from mamori.accounts.enums import NATIONAL_ROLES, OrgKind, Role
from mamori.accounts.models import AccessGrant, ApiToken, LoginSession, Membership, Organisation, User
from mamori.accounts.passwords import hash_password, verify_password
from mamori.accounts.principal import PERMISSIONS, Principal
from mamori.accounts.schemas import OrgIn, TokenIn, UserIn
from mamori.audit import service as audit
from mamori.core.errors import AuthenticationRequired, Conflict, NotFound, PermissionDenied, ValidationFailed
from mamori.i18n import _
from mamori.storage.db import utcnow

TOKEN_PREFIX = "mmr_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- organisations -------------------------------------------------------------------------------------


def list_orgs(session: Session, *, principal: Principal) -> Sequence[Organisation]:
    orgs = principal.visible_orgs("orgs.view")
    query = select(Organisation).order_by(Organisation.kind != OrgKind.NATIONAL, Organisation.name)
    if orgs is not None:
        query = query.where(Organisation.id.in_(orgs))
    return session.scalars(query).all()


def get_org(session: Session, *, principal: Principal, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or not principal.can("orgs.view", org_id):
        raise NotFound(f"organisation {org_id!r} not found")
    return org


def create_org(session: Session, *, principal: Principal | None, data: OrgIn) -> Organisation:
    """`principal=None` is the bootstrap path (CLI, demo) that runs before any user exists."""
    if principal is not None and not principal.national_roles() & {Role.ADMIN}:
        raise PermissionDenied("only a national administrator creates organisations")
    if session.get(Organisation, data.id) is not None:
        raise Conflict(f"organisation {data.id!r} exists already")
    org = Organisation(id=data.id, name=data.name, kind=data.kind.value)
    session.add(org)
    actor = principal.name if principal else "system"
    audit.record(
        session,
        actor=actor,
        action="org.create",
        object_type="organisation",
        object_id=data.id,
        org_id=data.id,
        details={"name": data.name, "kind": data.kind.value},
    )
    return org


# --- users ---------------------------------------------------------------------------------------------


def create_user(session: Session, *, principal: Principal | None, data: UserIn) -> User:
    for m in data.memberships:
        if session.get(Organisation, m.org_id) is None:
            raise ValidationFailed(f"no organisation {m.org_id!r}", where="memberships")
        if principal is not None:
            principal.require("users.manage", m.org_id)
    if session.scalar(select(User).where(User.username == data.username)) is not None:
        raise Conflict(f"user {data.username!r} exists already")
    user = User(
        username=data.username,
        display_name=data.display_name or data.username,
        email=data.email,
        password_hash=hash_password(data.password),
    )
    user.memberships = [Membership(org_id=m.org_id, role=m.role.value) for m in data.memberships]
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=principal.name if principal else "system",
        action="user.create",
        object_type="user",
        object_id=user.id,
        org_id=data.memberships[0].org_id,
        details={"username": data.username, "roles": [f"{m.role}@{m.org_id}" for m in data.memberships]},
    )
    return user


def list_users(session: Session, *, principal: Principal) -> Sequence[User]:
    orgs = principal.require_any("users.view")
    query = select(User).order_by(User.username)
    if orgs is not None:
        query = query.where(User.id.in_(select(Membership.user_id).where(Membership.org_id.in_(orgs))))
    return session.scalars(query).all()


def get_user(session: Session, *, principal: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not any(principal.can("users.view", m.org_id) for m in user.memberships):
        raise NotFound(f"user {user_id} not found")
    return user


def set_user_active(
    session: Session, *, principal: Principal, user_id: int, active: bool, reason: str | None = None
) -> User:
    """Deactivating locks a person out (and ends their sessions): it needs a reason, kept in the audit entry."""
    user = get_user(session, principal=principal, user_id=user_id)
    for m in user.memberships:
        principal.require("users.manage", m.org_id)
    details: dict[str, object] = {}
    if not active:
        details["reason"] = audit.require_reason(reason, doing=_("deactivating a user"))
    elif reason and reason.strip():
        details["reason"] = reason.strip()[: audit.REASON_MAX]
    user.active = active
    if not active:
        for login in session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)):
            session.delete(login)
    audit.record(
        session,
        actor=principal.name,
        action="user.activate" if active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        org_id=user.memberships[0].org_id if user.memberships else None,
        details=details,
    )
    return user


def holders_of(session: Session, *, action: str, orgs: frozenset[str] | None) -> Sequence[User]:
    """Active users allowed `action` in at least one of these organisations (None: in any), by name.

    The same rule as `Principal.can`, as one query: a role held in the organisation itself, or a national role
    held in a national organisation (which reaches every organisation).
    """
    allowed = PERMISSIONS.get(action, frozenset())
    national = select(Organisation.id).where(Organisation.kind == OrgKind.NATIONAL.value)
    held_nationally = and_(
        Membership.role.in_([r.value for r in allowed & NATIONAL_ROLES]), Membership.org_id.in_(national)
    )
    held_here: ColumnElement[bool] = Membership.role.in_([r.value for r in allowed])
    if orgs is not None:
        held_here = and_(held_here, Membership.org_id.in_(orgs))
    members = select(Membership.user_id).where(or_(held_here, held_nationally))
    query = select(User).where(User.active.is_(True), User.id.in_(members)).order_by(User.username)
    return session.scalars(query).all()


def principal_for(session: Session, user: User) -> Principal:
    roles: dict[str, set[Role]] = {}
    for m in user.memberships:
        roles.setdefault(m.org_id, set()).add(Role(m.role))
    national = frozenset(
        session.scalars(
            select(Organisation.id).where(Organisation.id.in_(roles), Organisation.kind == OrgKind.NATIONAL.value)
        )
    )
    return Principal(
        name=user.username,
        user_id=user.id,
        roles={k: frozenset(v) for k, v in roles.items()},
        national_orgs=national,
        incident_grants=active_grants(session, user_id=user.id, object_type="incident"),
    )


def active_grants(session: Session, *, user_id: int, object_type: str) -> frozenset[int]:
    query = select(AccessGrant.object_id).where(
        AccessGrant.user_id == user_id, AccessGrant.revoked_at.is_(None), AccessGrant.object_type == object_type
    )
    return frozenset(session.scalars(query))


# --- login sessions ------------------------------------------------------------------------------------


def login(session: Session, *, username: str, password: str, hours: int) -> tuple[str, LoginSession]:
    """Returns the cookie value (shown once) and the stored session. Same timing for unknown users."""
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        audit.record(
            session,
            actor=username[:100] or "?",
            action="login.failed",
            object_type="user",
            object_id=username[:100],
        )
        raise AuthenticationRequired("wrong username or password")
    cookie = secrets.token_urlsafe(32)
    stored = LoginSession(
        id_hash=_sha256(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(stored)
    audit.record(session, actor=user.username, action="login", object_type="user", object_id=user.id)
    return cookie, stored


def resolve_session(session: Session, *, cookie: str) -> tuple[Principal, LoginSession]:
    stored = session.scalar(select(LoginSession).where(LoginSession.id_hash == _sha256(cookie)))
    if stored is None or stored.expires_at < utcnow():
        raise AuthenticationRequired("session expired; log in again")
    user = session.get(User, stored.user_id)
    if user is None or not user.active:
        raise AuthenticationRequired("account disabled")
    return principal_for(session, user), stored


def logout(session: Session, *, cookie: str) -> None:
    stored = session.scalar(select(LoginSession).where(LoginSession.id_hash == _sha256(cookie)))
    if stored is not None:
        session.delete(stored)


# --- API tokens ----------------------------------------------------------------------------------------


def create_token(session: Session, *, principal: Principal | None, data: TokenIn) -> tuple[str, ApiToken]:
    if session.get(Organisation, data.org_id) is None:
        raise ValidationFailed(f"no organisation {data.org_id!r}", where="org_id")
    if principal is not None:
        principal.require("tokens.manage", data.org_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=data.name,
        org_id=data.org_id,
        sensor=data.sensor or data.name,
        scopes=" ".join(sorted(set(data.scopes))),
        token_hash=_sha256(secret),
        prefix=secret[:10],
        created_by=principal.name if principal else "system",
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=token.created_by,
        action="token.create",
        object_type="token",
        object_id=token.id,
        org_id=data.org_id,
        details={"name": data.name, "scopes": token.scopes},
    )
    return secret, token


def list_tokens(session: Session, *, principal: Principal) -> Sequence[ApiToken]:
    orgs = principal.require_any("tokens.manage")
    query = select(ApiToken).order_by(ApiToken.id)
    if orgs is not None:
        query = query.where(ApiToken.org_id.in_(orgs))
    return session.scalars(query).all()


def revoke_token(session: Session, *, principal: Principal, token_id: int, reason: str | None) -> ApiToken:
    """Revoking cuts a sensor off at once: it needs a reason, kept in the audit entry."""
    token = session.get(ApiToken, token_id)
    if token is None or not principal.can("tokens.manage", token.org_id):
        raise NotFound(f"token {token_id} not found")
    why = audit.require_reason(reason, doing=_("revoking a token"))
    token.revoked_at = token.revoked_at or utcnow()
    audit.record(
        session,
        actor=principal.name,
        action="token.revoke",
        object_type="token",
        object_id=token.id,
        org_id=token.org_id,
        details={"reason": why},
    )
    return token


def authenticate_token(session: Session, *, secret: str) -> Principal:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    if token is None or token.revoked_at is not None:
        raise AuthenticationRequired("unknown or revoked API token")
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # coarse, so a busy sensor does not write on every request
    return Principal(
        name=f"token:{token.name}",
        user_id=None,
        roles={},
        national_orgs=frozenset(),
        token_org=token.org_id,
        sensor=token.sensor,
        scopes=frozenset(token.scopes.split()),
    )


# --- access grants (written by the response service on deploy / release) -------------------------------


def grant(
    session: Session, *, actor: str, user_id: int, object_type: str, object_id: int, org_id: str, reason: str
) -> AccessGrant:
    row = AccessGrant(
        user_id=user_id,
        object_type=object_type,
        object_id=object_id,
        org_id=org_id,
        reason=reason[:200],
        granted_by=actor[:100],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="grant.create",
        object_type=object_type,
        object_id=object_id,
        org_id=org_id,
        details={"user_id": user_id, "reason": reason[:200]},
    )
    return row


def revoke_grants(session: Session, *, actor: str, user_id: int, object_type: str, object_id: int) -> int:
    rows = session.scalars(
        select(AccessGrant).where(
            AccessGrant.user_id == user_id,
            AccessGrant.object_type == object_type,
            AccessGrant.object_id == object_id,
            AccessGrant.revoked_at.is_(None),
        )
    ).all()
    for row in rows:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="grant.revoke",
            object_type=object_type,
            object_id=object_id,
            org_id=row.org_id,
            details={"user_id": user_id},
        )
    return len(rows)
