"""Maps the mamori error hierarchy to HTTP responses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mamori.core import errors


class FieldError(BaseModel):
    loc: str
    message: str


class ErrorBody(BaseModel):
    """The one shape of every error the API answers."""

    error: str
    message: str
    where: str | None = None
    fields: list[FieldError] = []


STATUS: dict[type[errors.MamoriError], int] = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.AuthenticationRequired: 401,
    errors.ValidationFailed: 422,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.ConfigurationError: 500,
}


def status_for(exc: errors.MamoriError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def json_error(request: Request, exc: errors.MamoriError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.AuthenticationRequired) else None
    body = {"error": type(exc).__name__, "message": exc.message, "where": exc.where}
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.MamoriError, json_error)  # type: ignore[arg-type]
