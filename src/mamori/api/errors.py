"""Every error a request can end in, mapped once: to one JSON shape for the API, to the page frame for the console.

`problem_of` turns any exception (mamori's hierarchy, FastAPI's request validation, a pydantic model refusing a
value, Starlette's 404/405, a database refusing an out-of-range number, or a bug) into a `Problem`: the HTTP
status, the `ErrorBody` the API answers and the human title the console shows. `install` registers the handlers
once; API paths (`/api/...`) answer JSON, every other path is handed to the console's page renderer.

A bug answers 500 with a generic message; its traceback goes to the log, never to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamori.core import errors
from mamori.i18n import _

log = logging.getLogger(__name__)


STATUS: dict[type[errors.MamoriError], int] = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.AuthenticationRequired: 401,
    errors.ValidationFailed: 422,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.ConfigurationError: 500,
}

# The console's page titles: what happened, in words, never a class name.
TITLES: dict[int, str] = {
    400: _("The request has a problem"),
    401: _("Please log in"),
    403: _("You may not do this"),
    404: _("Not found"),
    405: _("This address does not take that request"),
    409: _("This change is not possible now"),
    413: _("Too large"),
    422: _("The form has a problem"),
    500: _("Something went wrong on our side"),
}
HTTP_NAMES = {401: "AuthenticationRequired", 403: "PermissionDenied", 404: "NotFound", 405: "MethodNotAllowed"}
HTTP_MESSAGES = {
    404: _("there is nothing at this address"),
    405: _("this address does not accept this kind of request"),
}
UNEXPECTED = _("an unexpected error happened; it has been logged, please try again or tell your administrator")


class FieldError(BaseModel):
    """One refused field: where it is (``body.name``, ``query.limit``, ``kind``) and why."""

    loc: str
    message: str


class ErrorBody(BaseModel):
    """The one body every API error answers."""

    error: str
    message: str
    where: str | None = None
    fields: list[FieldError] = []


@dataclass(frozen=True)
class Problem:
    status: int
    body: ErrorBody
    exc: Exception
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return TITLES.get(self.status, TITLES[500] if self.status >= 500 else TITLES[400])


PageRenderer = Callable[[Request, Problem], Awaitable[Response]]


def status_for(exc: errors.MamoriError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _loc(parts: Sequence[Any]) -> str:
    return ".".join(str(p) for p in parts)


def _validation_body(fields: list[FieldError]) -> ErrorBody:
    summary = "; ".join(f"{f.loc}: {f.message}" if f.loc else f.message for f in fields[:5])
    return ErrorBody(
        error="ValidationFailed",
        message=summary or _("the input was refused"),
        where=fields[0].loc if fields else None,
        fields=fields,
    )


def _field_errors(raw: Sequence[Any]) -> list[FieldError]:
    return [FieldError(loc=_loc(e.get("loc", ())), message=str(e.get("msg", ""))) for e in raw]


def problem_of(exc: Exception) -> Problem:
    """The status, body and title for any exception that ends a request."""
    if isinstance(exc, errors.MamoriError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.AuthenticationRequired) else {}
        body = ErrorBody(error=type(exc).__name__, message=exc.message, where=exc.where)
        if isinstance(exc, errors.ValidationFailed) and exc.where:
            body.fields = [FieldError(loc=exc.where, message=exc.message)]
        return Problem(status_for(exc), body, exc, headers)
    if isinstance(exc, RequestValidationError | ValidationError):
        return Problem(422, _validation_body(_field_errors(exc.errors())), exc)
    if isinstance(exc, OverflowError | DataError):  # a number past the database's range, typed by the caller
        message = _("a number or value in the request is out of range")
        return Problem(422, ErrorBody(error="ValidationFailed", message=message), exc)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        name = HTTP_NAMES.get(status, "HTTPError")
        message = HTTP_MESSAGES.get(status) or str(exc.detail)
        return Problem(status, ErrorBody(error=name, message=message), exc, dict(exc.headers or {}))
    log.error("unexpected error", exc_info=exc)
    return Problem(500, ErrorBody(error="InternalError", message=UNEXPECTED), exc)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def json_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body.model_dump(), status_code=problem.status, headers=problem.headers or None)


class CatchUnexpected:
    """Innermost safety net: a bug in a handler becomes the 500 answer of `problem_of` (logged once, inside the
    security-header middleware), instead of Starlette's plain-text page. A response already started is left alone."""

    def __init__(self, app: ASGIApp, respond: Callable[[Request, Exception], Awaitable[Response]]) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await self.respond(Request(scope, receive), exc)
            await response(scope, receive, send)


def install(app: FastAPI, *, page: PageRenderer | None = None) -> None:
    """Register the handlers, once for the whole app. `page` renders non-API paths (the console); without it,
    every path answers JSON."""

    async def respond(request: Request, exc: Exception) -> Response:
        problem = problem_of(exc)
        if page is None or is_api(request):
            return json_response(problem)
        try:
            return await page(request, problem)
        except Exception:  # the error page itself failed: answer the plain shape rather than nothing
            log.exception("the console's error page failed")
            return json_response(problem)

    for kind in (errors.MamoriError, RequestValidationError, ValidationError, HTTPException, OverflowError, DataError):
        app.add_exception_handler(kind, respond)
    app.add_middleware(CatchUnexpected, respond=respond)
