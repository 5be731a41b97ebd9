"""The national responder roster: people from many organisations, their skills, availability and load.

Suggestions for a request rank available people with spare capacity by skill match first, then by spare
capacity; people from the requesting organisation are ranked lower (they are usually busy there already and an
outside view is part of what was asked for), but not excluded.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.enums import Role
from mamori.accounts.models import Membership, User
from mamori.accounts.principal import Principal, refusal
from mamori.audit import service as audit
from mamori.cases.models import Deployment, ResponderProfile
from mamori.cases.schemas import ProfileIn, RosterEntry
from mamori.core.errors import PermissionDenied, ValidationFailed
from mamori.i18n import _


def require_national(principal: Principal, action: str) -> None:
    if not principal.national_can(action):
        raise PermissionDenied(_("%(refusal)s: this needs a role in the national centre", refusal=refusal(action)))


def loads(session: Session) -> dict[int, int]:
    query = (
        select(Deployment.user_id, func.count()).where(Deployment.released_at.is_(None)).group_by(Deployment.user_id)
    )
    return {user_id: int(n) for user_id, n in session.execute(query).tuples()}


def deployed_on(session: Session) -> dict[int, list[int]]:
    """Responder → the incidents they are deployed on now (the roster's load, named)."""
    query = select(Deployment.user_id, Deployment.incident_id).where(Deployment.released_at.is_(None))
    out: dict[int, list[int]] = {}
    for user_id, incident_id in session.execute(query.order_by(Deployment.incident_id)).tuples():
        out.setdefault(user_id, []).append(incident_id)
    return out


def upsert(session: Session, *, principal: Principal, data: ProfileIn) -> ResponderProfile:
    require_national(principal, "roster.manage")
    user = session.get(User, data.user_id)
    if user is None or not any(m.role == Role.RESPONDER.value for m in user.memberships):
        who = user.username if user else f"user {data.user_id}"
        raise ValidationFailed(f"{who} is not a responder (only responders join the roster)", where="user_id")
    data = data.model_copy(update={"home_org_id": accounts.org_id_of(session, data.home_org_id, where="home_org_id")})
    profile = session.get(ResponderProfile, data.user_id) or ResponderProfile(user_id=data.user_id)
    profile.home_org_id = data.home_org_id
    profile.skills = sorted({s.strip().lower() for s in data.skills if s.strip()})
    profile.available, profile.max_load = data.available, data.max_load
    session.add(profile)
    audit.record(
        session,
        actor=principal.name,
        action="roster.upsert",
        object_type="responder",
        object_id=data.user_id,
        org_id=data.home_org_id,
        details=data.model_dump(),
    )
    return profile


def home_of(user: User) -> str:
    """Where someone holds their responder role (their first organisation if they hold none)."""
    orgs = [m.org_id for m in user.memberships if m.role == Role.RESPONDER.value]
    return (orgs or [m.org_id for m in user.memberships] or [""])[0]


def entries(session: Session, *, principal: Principal) -> list[RosterEntry]:
    require_national(principal, "roster.view")
    on = deployed_on(session)
    rows = session.execute(
        select(ResponderProfile, User).join(User, User.id == ResponderProfile.user_id).order_by(User.username)
    ).tuples()
    return [_entry(p, u, on.get(u.id, [])) for p, u in rows]


def find_entry(session: Session, *, principal: Principal, name: str, where: str) -> RosterEntry:
    """The roster entry a picker named: an exact username or, failing that, one exact display name (any case)."""
    wanted = name.strip().lower()
    rows = entries(session, principal=principal)
    exact = [e for e in rows if e.username.lower() == wanted] or [e for e in rows if e.display_name.lower() == wanted]
    if not wanted or not exact:
        raise ValidationFailed(f"nobody called {name!r} is on the roster", where=where)
    if len(exact) > 1:
        raise ValidationFailed(f"several responders are called {name!r}; choose by username", where=where)
    return exact[0]


def _entry(profile: ResponderProfile, user: User, incidents: list[int]) -> RosterEntry:
    return RosterEntry(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        home_org_id=profile.home_org_id,
        skills=list(profile.skills),
        available=profile.available and user.active,
        max_load=profile.max_load,
        load=len(incidents),
        incidents=incidents,
    )


def suggest(
    entries_: Sequence[RosterEntry], *, skills: Sequence[str], org_id: str, exclude: set[int]
) -> list[RosterEntry]:
    wanted = {s.lower() for s in skills}
    ranked = []
    for e in entries_:
        if not e.available or e.load >= e.max_load or e.user_id in exclude:
            continue
        matched = sorted(wanted & set(e.skills))
        spare = e.max_load - e.load
        score = 10.0 * len(matched) + 2.0 * spare - (3.0 if e.home_org_id == org_id else 0.0)
        reasons = [f"skills: {', '.join(matched) or 'none matched'}", f"load {e.load}/{e.max_load}"]
        if e.home_org_id == org_id:
            reasons.append("from the requesting organisation")
        ranked.append(e.model_copy(update={"score": score, "reasons": reasons}))
    return sorted(ranked, key=lambda e: (-(e.score or 0), e.username))


def responder_user_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Membership.user_id).where(Membership.role == Role.RESPONDER.value)))
