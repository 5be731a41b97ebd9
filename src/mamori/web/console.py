"""Console routes. Every page calls the same services as the API, so visibility rules are the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from mamori.accounts import service as accounts
from mamori.accounts.enums import Role, TokenScope
from mamori.accounts.principal import Principal
from mamori.accounts.schemas import MembershipIn, OrgIn, TokenIn, UserIn
from mamori.alerts import service as alerts
from mamori.alerts import stats
from mamori.alerts.enums import AlertStatus, Resolution
from mamori.alerts.models import Alert
from mamori.alerts.schemas import AlertFilter, BulkTriage, TriageAction
from mamori.api.deps import SESSION_COOKIE, DbSession, PlatformDep, UserCaller
from mamori.api.routes.auth import set_session_cookie
from mamori.core.errors import AuthenticationRequired, NotFound, ValidationFailed
from mamori.core.severity import Severity
from mamori.i18n import _
from mamori.i18n import install as install_i18n
from mamori.incidents import service as incidents
from mamori.incidents.categories import category_for
from mamori.incidents.enums import Category
from mamori.ingest import service as ingest
from mamori.web.charts import stacked_daily
from mamori.web.navigation import landing, links_for

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
install_i18n(templates.env)
templates.env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
router = APIRouter(include_in_schema=False)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def page(
    request: Request, name: str, principal: Principal | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.update(
        request=request,
        me=principal,
        nav=links_for(principal),
        csrf=getattr(request.state, "csrf_token", ""),
        severities=list(Severity),
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_form(request: Request, error: str = "") -> HTMLResponse:
    return page(request, "login.html", None, error=error[:200])


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    try:
        cookie, _session = accounts.login(
            session, username=username, password=password, hours=platform.settings.session_hours
        )
    except AuthenticationRequired:
        session.commit()  # keep the audit entry of the failed attempt
        return page(request, "login.html", None, error=_("Wrong username or password."), username=username)
    principal, _stored = accounts.resolve_session(session, cookie=cookie)
    response = back(landing(principal))
    set_session_cookie(response, cookie, secure=platform.settings.cookie_secure, hours=platform.settings.session_hours)
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, principal: UserCaller) -> Response:
    accounts.logout(session, cookie=request.cookies.get(SESSION_COOKIE, ""))
    response = back("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def dashboard(request: Request, session: DbSession, principal: UserCaller) -> HTMLResponse:
    board = stats.dashboard(session, principal=principal, now=datetime.now(UTC))
    chart = stacked_daily([d.isoformat() for d in board.days], board.per_org)
    sees_alerts = principal.may_any("alerts.view")
    recent = alerts.list_(session, principal=principal, filters=AlertFilter(limit=15))[0] if sees_alerts else []
    orgs = accounts.list_orgs(session, principal=principal)
    change = (board.today - board.same_day_last_year) / board.same_day_last_year if board.same_day_last_year else None
    open_total = sum(sum(per_severity.values()) for per_severity in board.open_by_org.values())
    return page(
        request,
        "dashboard.html",
        principal,
        board=board,
        chart=chart,
        recent=recent,
        orgs=orgs,
        change=change,
        open_total=open_total,
        sees_alerts=sees_alerts,
    )


@router.get("/alerts")
def alert_list(
    request: Request, session: DbSession, principal: UserCaller, filters: Annotated[AlertFilter, Depends()]
) -> HTMLResponse:
    rows, total = alerts.list_(session, principal=principal, filters=filters)
    orgs = accounts.list_orgs(session, principal=principal)
    return page(
        request,
        "alerts.html",
        principal,
        alerts=rows,
        escalated=incidents.incident_of_alerts(session, principal=principal, alert_ids=[a.id for a in rows]),
        total=total,
        filters=filters,
        orgs=orgs,
        statuses=list(AlertStatus),
        people=alerts.triagers(session, principal=principal),
        names=alerts.people_named(session, user_ids=(a.assignee_id for a in rows)),
        can_triage_any=principal.visible_orgs("alerts.triage") != frozenset(),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


def _list_url(value: str) -> str:
    """Where to go back to after a bulk action: a page of the alert list, never another site."""
    return value if value.startswith("/alerts") and not value.startswith("//") else "/alerts"


@router.post("/alerts/bulk")
def alert_bulk(
    request: Request,
    session: DbSession,
    principal: UserCaller,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    resolution: Annotated[str, Form(max_length=30)] = "",
    comment: Annotated[str, Form(max_length=10_000)] = "",
    assignee_id: Annotated[str, Form(max_length=12)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
    back_to: Annotated[str, Form(max_length=2000)] = "/alerts",
) -> HTMLResponse:
    chosen = list(dict.fromkeys(int(i) for i in ids if i.isdigit()))
    if not chosen:
        raise ValidationFailed(_("Select at least one alert first."), where="ids")
    context: dict[str, Any] = {"action": action, "back_to": _list_url(back_to), "resolutions": list(Resolution)}
    if action == "close" and confirmed != "yes":
        # Closing many alerts is destructive: show what would be closed and ask for a resolution and a reason.
        selected = _visible_alerts(session, principal, chosen)
        return page(request, "alerts_bulk.html", principal, confirm=True, selected=selected, **context)
    try:
        bulk = BulkTriage(
            ids=chosen,
            action=action,
            resolution=Resolution(resolution) if resolution else None,
            comment=comment.strip() or None,
            assignee_id=int(assignee_id) if assignee_id.isdigit() else None,
        )
    except ValueError:  # pydantic's ValidationError is one: an unknown action or resolution
        raise ValidationFailed(_("Unknown bulk action or resolution."), where="action") from None
    result = alerts.bulk_triage(session, principal=principal, request=bulk)
    names = alerts.people_named(session, user_ids=[bulk.assignee_id])
    return page(request, "alerts_bulk.html", principal, confirm=False, result=result, names=names, bulk=bulk, **context)


def _visible_alerts(session: Session, principal: Principal, ids: list[int]) -> list[Alert]:
    found: list[Alert] = []
    for alert_id in ids:
        try:
            found.append(alerts.get(session, principal=principal, alert_id=alert_id))
        except NotFound:
            continue  # not the caller's to see: the bulk action will answer "not found" for it
    return found


@router.get("/alerts/{alert_id}")
def alert_detail(alert_id: int, request: Request, session: DbSession, principal: UserCaller) -> HTMLResponse:
    alert = alerts.get(session, principal=principal, alert_id=alert_id)
    can_triage = principal.can("alerts.triage", alert.org_id)
    assignees = alerts.assignees_for(session, principal=principal, alert_id=alert_id) if can_triage else []
    escalated = incidents.incident_of_alerts(session, principal=principal, alert_ids=[alert.id])
    return page(
        request,
        "alert.html",
        principal,
        alert=alert,
        escalated=alert.id in escalated,
        incident_id=escalated.get(alert.id),
        events=alerts.events_of(session, principal=principal, alert_id=alert_id),
        comments=alerts.comments_of(session, principal=principal, alert_id=alert_id),
        resolutions=list(Resolution),
        can_triage=can_triage,
        can_open_incident=principal.can("incidents.manage", alert.org_id),
        categories=list(Category),
        suggested_category=category_for(alert),
        assignees=assignees,
        i_may_hold_it=any(u.id == principal.user_id for u in assignees),
        assignee_name=alerts.people_named(session, user_ids=[alert.assignee_id]).get(alert.assignee_id or 0),
    )


@router.post("/alerts/{alert_id}/actions")
def alert_action(
    alert_id: int,
    request: Request,
    session: DbSession,
    principal: UserCaller,
    action: Annotated[str, Form(max_length=20)],
    resolution: Annotated[str, Form(max_length=30)] = "",
    comment: Annotated[str, Form(max_length=10_000)] = "",
    assignee_id: Annotated[str, Form(max_length=12)] = "",
    confirmed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    # Validated first: an unknown action or resolution is refused before any page, the confirmation included.
    triage = TriageAction.model_validate(
        {
            "action": action,
            "resolution": resolution or None,
            "comment": comment.strip() or None,
            "assignee_id": assignee_id or None,
        }
    )
    if action == "close" and confirmed != "yes":
        # Closing is destructive: first a page saying what will happen, asking for the resolution and a reason.
        alert = alerts.get_to_triage(session, principal=principal, alert_id=alert_id)
        return page(
            request,
            "alert_close.html",
            principal,
            alert=alert,
            resolutions=list(Resolution),
            chosen=resolution,
            reason=comment,
        )
    alerts.triage(session, principal=principal, alert_id=alert_id, action=triage)
    return back(f"/alerts/{alert_id}")


@router.get("/dead-letters")
def dead_letters(request: Request, session: DbSession, principal: UserCaller) -> HTMLResponse:
    rows = ingest.list_dead_letters(session, principal=principal, limit=200)
    return page(
        request,
        "dead_letters.html",
        principal,
        rows=rows,
        total=ingest.count_dead_letters(session, principal=principal),
    )


@router.get("/admin")
def admin(request: Request, session: DbSession, principal: UserCaller, created_token: str = "") -> HTMLResponse:
    orgs = accounts.list_orgs(session, principal=principal)
    users = (
        accounts.list_users(session, principal=principal) if principal.visible_orgs("users.view") != frozenset() else []
    )
    tokens = (
        accounts.list_tokens(session, principal=principal)
        if principal.visible_orgs("tokens.manage") != frozenset()
        else []
    )
    return page(
        request,
        "admin.html",
        principal,
        orgs=orgs,
        users=users,
        tokens=tokens,
        roles=list(Role),
        created_token=created_token,
    )


@router.post("/admin/orgs")
def admin_create_org(
    session: DbSession,
    principal: UserCaller,
    org_id: Annotated[str, Form()],
    name: Annotated[str, Form()],
    kind: Annotated[str, Form()],
) -> Response:
    accounts.create_org(
        session, principal=principal, data=OrgIn.model_validate({"id": org_id, "name": name, "kind": kind})
    )
    return back("/admin")


@router.post("/admin/users")
def admin_create_user(
    session: DbSession,
    principal: UserCaller,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    org_id: Annotated[str, Form()],
    role: Annotated[str, Form()],
    display_name: Annotated[str, Form()] = "",
) -> Response:
    accounts.create_user(
        session,
        principal=principal,
        data=UserIn(
            username=username,
            password=password,
            display_name=display_name,
            memberships=[MembershipIn.model_validate({"org_id": org_id, "role": role})],
        ),
    )
    return back("/admin")


@router.post("/admin/tokens")
def admin_create_token(
    request: Request,
    session: DbSession,
    principal: UserCaller,
    name: Annotated[str, Form()],
    org_id: Annotated[str, Form()],
    sensor: Annotated[str, Form()] = "",
    scope: Annotated[TokenScope, Form()] = TokenScope.INGEST,
) -> HTMLResponse:
    secret, _token = accounts.create_token(
        session, principal=principal, data=TokenIn(name=name, org_id=org_id, sensor=sensor, scopes=[scope])
    )
    return admin(request, session, principal, created_token=secret)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def install(app: FastAPI, *, static_dir: Path) -> None:
    from mamori.web import website_pages  # imports this module: included here, not at import time

    app.include_router(router)
    app.include_router(website_pages.router)
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    app.add_middleware(SecurityHeaders)
