"""Who is calling, and what they may see and do. The service layer asks; views never decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mamori.accounts.enums import NATIONAL_ROLES, Role, TokenScope
from mamori.core.errors import PermissionDenied
from mamori.i18n import _

_ALL = frozenset(Role)
_TRIAGE = frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.RESPONDER, Role.ADMIN})

# Which roles allow which action, inside the organisation where the role is held. A role held in the
# national organisation extends the same right to every organisation.
PERMISSIONS: Mapping[str, frozenset[Role]] = {
    "alerts.view": _ALL - {Role.TRAINER},
    "alerts.triage": _TRIAGE,
    "events.view": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.RESPONDER, Role.ADMIN, Role.AUDITOR}),
    "deadletters.view": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.ADMIN}),
    "stats.view": _ALL,
    "orgs.view": _ALL,
    "orgs.manage": frozenset({Role.ADMIN}),
    "users.view": frozenset({Role.ADMIN, Role.AUDITOR, Role.ORG_OFFICER}),
    "users.manage": frozenset({Role.ADMIN}),
    "tokens.manage": frozenset({Role.ADMIN, Role.ORG_OFFICER}),
    "audit.view": frozenset({Role.AUDITOR, Role.ADMIN}),
    # Incident response. Responders are deliberately absent from the incident actions: a responder (even one
    # held in the national organisation) reaches an incident only through a deployment grant, see
    # `incident_grants` and docs/response.md.
    "incidents.view": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.ADMIN, Role.AUDITOR}),
    "incidents.manage": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.ADMIN}),
    "incidents.work": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.ADMIN}),
    "observables.correlate": frozenset({Role.NATIONAL_ANALYST, Role.ADMIN, Role.AUDITOR}),
    "assistance.request": frozenset({Role.ORG_OFFICER, Role.ADMIN}),
    "assistance.view": frozenset({Role.NATIONAL_ANALYST, Role.ORG_OFFICER, Role.ADMIN, Role.AUDITOR, Role.RESPONDER}),
    "assistance.decide": frozenset({Role.NATIONAL_ANALYST, Role.ADMIN}),
    "roster.view": frozenset({Role.NATIONAL_ANALYST, Role.ADMIN, Role.AUDITOR, Role.RESPONDER}),
    "roster.manage": frozenset({Role.NATIONAL_ANALYST, Role.ADMIN}),
    # Website watch: responders see sites (they restore them from known-good copies); officers run their own.
    "websites.view": _ALL - {Role.TRAINER},
    "websites.manage": frozenset({Role.ADMIN, Role.ORG_OFFICER, Role.NATIONAL_ANALYST}),
    "websites.approve": frozenset({Role.ADMIN, Role.ORG_OFFICER, Role.NATIONAL_ANALYST}),
}

# What a token of each scope may do (the view actions of its organisation, or of all for a national token).
# Ingest is not an action here: the ingest endpoint checks the scope itself.
SCOPE_ACTIONS: Mapping[str, frozenset[str]] = {
    TokenScope.INGEST: frozenset(),
    TokenScope.READ: frozenset({"alerts.view", "events.view", "incidents.view", "orgs.view", "websites.view"}),
}


# Each action in words, for the refusal a person reads ("your account may not <words> ...").
IN_WORDS: Mapping[str, str] = {
    "alerts.view": _("see alerts"),
    "alerts.triage": _("triage alerts"),
    "events.view": _("search events"),
    "deadletters.view": _("see refused input (dead letters)"),
    "stats.view": _("see statistics"),
    "orgs.view": _("see organisations"),
    "orgs.manage": _("manage organisations"),
    "users.view": _("see users"),
    "users.manage": _("manage users"),
    "tokens.manage": _("manage API tokens"),
    "audit.view": _("read the audit trail"),
    "incidents.view": _("see incidents"),
    "incidents.manage": _("manage incidents"),
    "incidents.work": _("work on incidents"),
    "observables.correlate": _("correlate observables across organisations"),
    "assistance.request": _("request assistance"),
    "assistance.view": _("see assistance requests"),
    "assistance.decide": _("decide on assistance requests"),
    "roster.view": _("see the responder roster"),
    "roster.manage": _("manage the responder roster"),
    "websites.view": _("see watched websites"),
    "websites.manage": _("manage watched websites"),
    "websites.approve": _("approve website baselines"),
}


def refusal(action: str, org_id: str | None = None) -> str:
    """Why an action is refused, in words (the action's name stays in brackets for the administrator)."""
    words = IN_WORDS.get(action, action)
    if org_id is None:
        return _("your account may not %(words)s (%(action)s)", words=words, action=action)
    return _("your account may not %(words)s in %(org)s (%(action)s)", words=words, org=org_id, action=action)


# What a deployment grant allows on the one incident it names (never manage: phase, category, deletion).
GRANTED_INCIDENT_ACTIONS = frozenset({"incidents.view", "incidents.work"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a console user or an API token."""

    name: str  # username, or "token:<name>"
    user_id: int | None
    roles: Mapping[str, frozenset[Role]]  # org id -> roles held there
    national_orgs: frozenset[str]  # organisations of kind "national" where the caller holds a role
    token_org: str | None = None  # set for API tokens: the one organisation the token speaks for
    sensor: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    incident_grants: frozenset[int] = field(default_factory=frozenset)  # incidents reached by deployment

    @property
    def is_token(self) -> bool:
        return self.token_org is not None

    def token_allows(self, action: str) -> bool:
        return any(action in SCOPE_ACTIONS.get(scope, frozenset()) for scope in self.scopes)

    @property
    def national_token(self) -> bool:
        return self.token_org is not None and self.token_org in self.national_orgs

    def national_roles(self) -> frozenset[Role]:
        held: set[Role] = set()
        for org in self.national_orgs:
            held |= self.roles.get(org, frozenset())
        return frozenset(held & NATIONAL_ROLES)

    def can(self, action: str, org_id: str) -> bool:
        if self.is_token:
            return self.token_allows(action) and (self.national_token or org_id == self.token_org)
        allowed = PERMISSIONS.get(action, frozenset())
        if self.national_roles() & allowed:
            return True
        return bool(self.roles.get(org_id, frozenset()) & allowed)

    def visible_orgs(self, action: str) -> frozenset[str] | None:
        """Organisations where `action` is allowed; None means all of them (national scope)."""
        if self.token_org is not None:
            if not self.token_allows(action):
                return frozenset()
            return None if self.national_token else frozenset({self.token_org})
        allowed = PERMISSIONS.get(action, frozenset())
        if self.national_roles() & allowed:
            return None
        return frozenset(org for org, roles in self.roles.items() if roles & allowed)

    def may_any(self, action: str) -> bool:
        """`action` is allowed in at least one organisation: the gate of every list page (`require_any`)."""
        return self.visible_orgs(action) != frozenset()

    def can_incident(self, action: str, org_id: str, incident_id: int) -> bool:
        """`can`, widened by a deployment grant on this one incident."""
        if action in GRANTED_INCIDENT_ACTIONS and incident_id in self.incident_grants:
            return True
        return self.can(action, org_id)

    def national_can(self, action: str) -> bool:
        """The action is allowed through a role held in the national organisation (national scope)."""
        if self.is_token:
            return self.national_token and self.token_allows(action)
        return bool(self.national_roles() & PERMISSIONS.get(action, frozenset()))

    def require(self, action: str, org_id: str) -> None:
        if not self.can(action, org_id):
            raise PermissionDenied(refusal(action, org_id))

    def require_any(self, action: str) -> frozenset[str] | None:
        """Like visible_orgs, but refuses a caller who may do `action` nowhere."""
        if not self.may_any(action):
            raise PermissionDenied(refusal(action))
        return self.visible_orgs(action)

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"this token lacks the {scope!r} scope")
