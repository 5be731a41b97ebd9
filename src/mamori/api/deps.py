"""Request dependencies: the platform, a database session, and the authenticated caller.

Authentication: a bearer API token (scope ``ingest`` for sensors, ``read`` for integrations) or the console's
session cookie. Cookie-authenticated requests that change state must carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf_token``); bearer requests cannot be forged by a browser, so they need none.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mamori.accounts import service as accounts
from mamori.accounts.enums import TokenScope
from mamori.accounts.principal import Principal
from mamori.core.errors import AuthenticationRequired, PermissionDenied
from mamori.i18n import _
from mamori.platform import Platform

SESSION_COOKIE = "mamori_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STALE_FORM = _("the form has expired or came from another site (wrong CSRF token); reload the page and send it again")


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_session(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Session]:
    with platform.db.session() as session:
        yield session


async def _form_csrf(request: Request) -> str:
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/")):
        form = await request.form()
        request.state.form = form  # kept for the error pages, which re-show what was typed
        value = form.get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


async def csrf_token_sent(request: Request) -> str:
    # Only a cookie-authenticated request has a CSRF token to check. A bearer request's body belongs to its
    # route (ingest reads it as a stream: curl's default form content type would otherwise be consumed here),
    # and a request with no session is refused before anything reads its body.
    if request.headers.get("authorization", "").lower().startswith("bearer ") or SESSION_COOKIE not in request.cookies:
        return ""
    from_form = await _form_csrf(request)  # read even with the header: the form is kept for the error pages
    return request.headers.get(CSRF_HEADER) or from_form


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session, scope="function")],
    sent_csrf: Annotated[str, Depends(csrf_token_sent)],
) -> Principal:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return _scoped(request, accounts.authenticate_token(session, secret=auth[7:].strip()))
    principal = console_principal(request, session)
    if request.method not in SAFE_METHODS and not hmac.compare_digest(sent_csrf, request.state.csrf_token):
        raise PermissionDenied(STALE_FORM)
    return principal


def console_principal(request: Request, session: Session) -> Principal:
    """The session cookie's user; kept on the request so an error page can still show their navigation."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise AuthenticationRequired("log in or send a bearer token")
    principal, stored = accounts.resolve_session(session, cookie=cookie)
    request.state.csrf_token = stored.csrf_token
    request.state.principal = principal
    return principal


def _scoped(request: Request, token: Principal) -> Principal:
    """Reading needs the `read` scope, changing needs `ingest` (the only change a token makes). The services
    decide again what the scope allows; this refuses plainly before a handler runs."""
    if request.method in SAFE_METHODS and TokenScope.READ not in token.scopes:
        raise PermissionDenied("this token may only ingest; create a token with the 'read' scope to read")
    if request.method not in SAFE_METHODS and TokenScope.INGEST not in token.scopes:
        raise PermissionDenied("a read token cannot change anything")
    return token


def principal_for_stream(request: Request, platform: Platform) -> Principal:
    """Authenticate a long-lived GET (SSE) with a short session, so no connection is held while it streams."""
    with platform.db.session() as session:
        return get_principal(request, session, "")


def get_user(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """A console user (not an API token)."""
    if principal.is_token:
        raise PermissionDenied("this endpoint is for people, not API tokens")
    return principal


# scope="function": commit when the handler returns, *before* the response is sent. With FastAPI's default
# ("request") the commit ran after sending, so a browser following a POST's redirect could read the old state.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
Caller = Annotated[Principal, Depends(get_principal)]
UserCaller = Annotated[Principal, Depends(get_user)]
PlatformDep = Annotated[Platform, Depends(get_platform)]
