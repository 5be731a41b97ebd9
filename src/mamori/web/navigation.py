"""The console's navigation: one table of pages and who may open each, read by base.html.

Each rule is the gate the page's service applies (`Principal.may_any` is what `require_any` checks, `national_can`
what the roster checks), so a link is shown exactly when its page opens. tests/web/test_navigation.py walks every
page for every role to keep the two in step. To add a page to the navigation, add a `Link` here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.accounts.principal import Principal
from mamori.i18n import _

Rule = Callable[[Principal], bool]


def anywhere(*actions: str) -> Rule:
    """Allowed in at least one organisation for at least one of `actions`."""
    return lambda p: any(p.may_any(a) for a in actions)


def national(action: str) -> Rule:
    return lambda p: p.national_can(action)


def on_incidents(p: Principal) -> bool:
    """Incident pages: a role that sees incidents, or a responder deployed on one."""
    return p.may_any("incidents.view") or bool(p.incident_grants)


@dataclass(frozen=True)
class Link:
    path: str
    label: str
    may_open: Rule


NAV: Sequence[Link] = (
    Link("/", _("Dashboard"), anywhere("stats.view")),
    Link("/alerts", _("Alerts"), anywhere("alerts.view")),
    Link("/alerts?assignee=me", _("My alerts"), anywhere("alerts.view")),
    Link("/events", _("Events"), anywhere("events.view")),
    Link("/websites", _("Websites"), anywhere("websites.view")),
    Link("/incidents", _("Incidents"), on_incidents),
    Link("/my-tasks", _("My tasks"), on_incidents),
    Link("/assistance", _("Assistance"), anywhere("assistance.view")),
    Link("/roster", _("Roster"), national("roster.view")),
    Link("/metrics/incidents", _("Metrics"), anywhere("incidents.view")),
    Link("/dead-letters", _("Dead letters"), anywhere("deadletters.view")),
    Link("/admin", _("Admin"), anywhere("orgs.manage", "users.view", "tokens.manage")),
)


def links_for(principal: Principal | None) -> list[Link]:
    """The links this caller may open, in the table's order (none before login)."""
    if principal is None:
        return []
    return [link for link in NAV if link.may_open(principal)]


def landing(principal: Principal) -> str:
    """Where a login lands: the first page of the navigation this caller may open."""
    links = links_for(principal)
    return links[0].path if links else "/"
