"""Accounts service: every function takes the acting principal and enforces visibility itself."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from mamori.accounts.enums import NATIONAL_ROLES, OrgKind, Role
from mamori.accounts.models import AccessGrant, ApiToken, LoginSession, Membership, Organisation, User
from mamori.accounts.passwords import hash_password, verify_password
from mamori.accounts.principal import PERMISSIONS, Principal
from mamori.accounts.schemas import OrgIn, PersonOut, TokenIn, UserIn
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


def org_slug(typed: str) -> str:
    """A typed slug as stored: slugs are lowercase (see `OrgIn`), and people type `MOF` for `mof`. Filters use
    this (no lookup needed); lookups of one organisation use `find_org`."""
    return typed.strip().lower()


def find_org(session: Session, org_id: str) -> Organisation | None:
    """The organisation whose slug is `org_id` in any letter case: people type `MOF`, `mof` and `Mof` for one
    ministry, so every lookup of a typed slug goes through here (callers then use the stored `org.id`)."""
    wanted = org_id.strip()
    org = session.get(Organisation, wanted)
    if org is None and wanted:
        org = session.scalar(select(Organisation).where(func.lower(Organisation.id) == wanted.lower()))
    return org


def org_id_of(session: Session, org_id: str, *, where: str) -> str:
    """The stored slug of an organisation named in any letter case, or a validation error at `where`."""
    org = find_org(session, org_id)
    if org is None:
        raise ValidationFailed(f"no organisation {org_id!r}", where=where)
    return org.id


def get_org(session: Session, *, principal: Principal, org_id: str) -> Organisation:
    org = find_org(session, org_id)
    if org is None or not principal.can("orgs.view", org.id):
        raise NotFound(f"organisation {org_id!r} not found")
    return org


def create_org(
    session: Session, *, principal: Principal | None, data: OrgIn, system_actor: str = "system"
) -> Organisation:
    """`principal=None` is the bootstrap path (CLI, demo) that runs before any user exists; the audit log then
    names `system_actor` (the CLI passes the operating-system account that ran it)."""
    if principal is not None and not principal.national_roles() & {Role.ADMIN}:
        raise PermissionDenied("only a national administrator creates organisations")
    existing = find_org(session, data.id)
    if existing is not None:
        raise Conflict(f"organisation {existing.id!r} exists already (slugs ignore letter case)")
    if data.kind == OrgKind.NATIONAL:
        _refuse_second_national_centre(session)
    org = Organisation(id=data.id, name=data.name, kind=data.kind.value)
    session.add(org)
    actor = principal.name if principal else system_actor
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


def _refuse_second_national_centre(session: Session) -> None:
    """One national centre only: its national roles see every ministry, so a second one would hand that sight to
    whoever administers it. `mamori init` creates the first."""
    centre = session.scalar(select(Organisation.id).where(Organisation.kind == OrgKind.NATIONAL.value))
    if centre is not None:
        raise Conflict(f"the national centre {centre!r} exists already; an installation has one national centre")


def refuse_if_initialised(session: Session) -> None:
    """Conflict when the installation has a national centre or any user already."""
    existing = session.scalar(select(Organisation.id).where(Organisation.kind == OrgKind.NATIONAL.value))
    users = session.scalar(select(func.count()).select_from(User)) or 0
    if existing is not None or users:
        where = f"national centre {existing!r}" if existing else f"{users} user(s)"
        raise Conflict(f"already initialised ({where} exists); add people with `mamori user create`")


def initialise(session: Session, *, centre: OrgIn, admin: UserIn, system_actor: str) -> User:
    """A fresh installation's national centre and its first administrator, once (bootstrap, no principal).

    Refused when the installation already has a national centre or any user: a second `mamori init` must
    not make a second centre or an administrator nobody asked for.
    """
    refuse_if_initialised(session)
    if centre.kind is not OrgKind.NATIONAL:
        raise ValidationFailed("the centre created by init is the national one", where="kind")
    create_org(session, principal=None, data=centre, system_actor=system_actor)
    if [(m.org_id, m.role) for m in admin.memberships] != [(centre.id, Role.ADMIN)]:
        raise ValidationFailed(f"the first user is an administrator of {centre.id!r} only", where="memberships")
    user = create_user(session, principal=None, data=admin, system_actor=system_actor)
    audit.record(
        session,
        actor=system_actor,
        action="platform.init",
        object_type="organisation",
        object_id=centre.id,
        org_id=centre.id,
        details={"admin": admin.username},
    )
    return user


# --- users ---------------------------------------------------------------------------------------------


def create_user(session: Session, *, principal: Principal | None, data: UserIn, system_actor: str = "system") -> User:
    memberships = [
        m.model_copy(update={"org_id": org_id_of(session, m.org_id, where="memberships")}) for m in data.memberships
    ]
    data = data.model_copy(update={"memberships": memberships})
    for m in data.memberships:
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
        actor=principal.name if principal else system_actor,
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


SEARCH_LIMIT = 50


def _searchable(principal: Principal) -> Select[User]:
    """Active users the caller may find by name: the users of the organisations where they may view users,
    and, for whoever manages the national roster, every responder of any organisation (the people eligible for
    the roster) - never the whole user list of another organisation."""
    orgs = principal.visible_orgs("users.view")
    scopes = []
    if orgs is None:
        scopes.append(User.id.is_not(None))
    elif orgs:
        scopes.append(User.id.in_(select(Membership.user_id).where(Membership.org_id.in_(orgs))))
    if principal.national_can("roster.manage"):
        scopes.append(User.id.in_(select(Membership.user_id).where(Membership.role == Role.RESPONDER.value)))
    if not scopes:
        raise PermissionDenied("searching people needs users.view or roster.manage")
    return select(User).where(User.active.is_(True), or_(*scopes))


def search_users(session: Session, *, principal: Principal, text: str = "", limit: int = 20) -> Sequence[User]:
    """Searchable people (see `_searchable`) whose username or display name contains `text` (any letter case),
    for pickers; at most SEARCH_LIMIT."""
    query = _searchable(principal)
    needle = text.strip().lower()
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    query = query.order_by(User.username).limit(max(1, min(limit, SEARCH_LIMIT)))
    return session.scalars(query).all()


def person_out(user: User) -> PersonOut:
    return PersonOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        orgs=sorted({m.org_id for m in user.memberships}),
    )


def find_person(session: Session, *, principal: Principal, name: str, where: str) -> User:
    """The one searchable person called `name`: an exact username or, failing that, an exact display name
    (any letter case). What a picker form submits; an unknown or ambiguous name is a validation error."""
    wanted = name.strip().lower()
    query = _searchable(principal).order_by(User.username).limit(SEARCH_LIMIT)
    exact = (
        session.scalars(query.where(func.lower(User.username) == wanted)).all()
        or session.scalars(query.where(func.lower(User.display_name) == wanted)).all()
    )
    if not wanted or not exact:
        raise ValidationFailed(f"nobody called {name!r} that you may choose", where=where)
    if len(exact) > 1:
        raise ValidationFailed(f"several people are called {name!r}; choose by username", where=where)
    return exact[0]


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


def create_token(
    session: Session, *, principal: Principal | None, data: TokenIn, system_actor: str = "system"
) -> tuple[str, ApiToken]:
    data = data.model_copy(update={"org_id": org_id_of(session, data.org_id, where="org_id")})
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
        created_by=principal.name if principal else system_actor,
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


def _national(session: Session, org_id: str) -> frozenset[str]:
    org = session.get(Organisation, org_id)
    return frozenset({org_id}) if org is not None and org.kind == OrgKind.NATIONAL else frozenset()


def authenticate_token(session: Session, *, secret: str) -> Principal:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(secret)))
    if token is None or token.revoked_at is not None:
        raise AuthenticationRequired("unknown or revoked API token")
    # Read before marking the token used: a query after the change would flush it, and the UPDATE would hold
    # SQLite's write lock for the whole request (ingest writes its batch in another session).
    national = _national(session, token.org_id)
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # coarse, so a busy sensor does not write on every request
    return Principal(
        name=f"token:{token.name}",
        user_id=None,
        roles={},
        token_org=token.org_id,
        sensor=token.sensor,
        scopes=frozenset(token.scopes.split()),
        # A token of the national centre reads with national visibility, like the centre's own people.
        national_orgs=national,
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
