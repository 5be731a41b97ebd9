from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from mamori.accounts import service as accounts
from mamori.api.deps import SESSION_COOKIE, DbSession, PlatformDep, UserCaller

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(max_length=100)
    password: str = Field(max_length=200)


class Me(BaseModel):
    username: str
    roles: dict[str, list[str]]
    national: bool
    csrf_token: str


def set_session_cookie(response: Response, cookie: str, *, secure: bool, hours: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=hours * 3600,
        path="/",
    )


@router.post("/login", responses={401: {"description": "Wrong username or password, or the account is inactive."}})
def login(data: LoginIn, response: Response, session: DbSession, platform: PlatformDep) -> Me:
    """Log in with a console user's name and password: sets the session cookie and answers the CSRF token to send
    as `X-CSRF-Token` on unsafe requests."""
    settings = platform.settings
    cookie, stored = accounts.login(
        session, username=data.username, password=data.password, hours=settings.session_hours
    )
    set_session_cookie(response, cookie, secure=settings.cookie_secure, hours=settings.session_hours)
    principal, _ = accounts.resolve_session(session, cookie=cookie)
    return Me(
        username=principal.name,
        roles={k: sorted(v) for k, v in principal.roles.items()},
        national=bool(principal.national_roles()),
        csrf_token=stored.csrf_token,
    )


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: DbSession, principal: UserCaller) -> None:
    """End the console session and clear its cookie."""
    accounts.logout(session, cookie=request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
def me(request: Request, principal: UserCaller) -> Me:
    """The logged-in user, their roles per organisation and the session's CSRF token."""
    return Me(
        username=principal.name,
        roles={k: sorted(v) for k, v in principal.roles.items()},
        national=bool(principal.national_roles()),
        csrf_token=getattr(request.state, "csrf_token", ""),
    )
