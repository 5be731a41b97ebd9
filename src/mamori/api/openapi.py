"""The OpenAPI document: how to authenticate, and every error status an operation can answer, in one shape.

FastAPI documents only the success and its own 422. This module adds, per operation, the security it takes
(derived from the authentication dependency the route uses, so it cannot drift from the code) and the error
statuses of the mamori error hierarchy that apply, each with :class:`mamori.api.errors.ErrorBody`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from mamori.api import deps
from mamori.api.errors import ErrorBody

ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"
UNSAFE = frozenset({"post", "put", "patch", "delete"})

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An API token (`mmr_…`), created in the console under /admin or with `POST /api/v1/tokens`; "
            "only its hash is kept. Scope `ingest`: `POST /api/v1/ingest` only. Scope `read`: GET of the alerts, "
            "events, incidents and websites its organisation may see; never a change."
        ),
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": deps.SESSION_COOKIE,
        "description": "The console session, set by `POST /api/v1/auth/login` (HttpOnly, SameSite=Strict).",
    },
    "csrfHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": (
            "Required together with the session cookie on every unsafe method (POST, PUT, PATCH, DELETE): "
            "the `csrf_token` answered by `POST /api/v1/auth/login` and `GET /api/v1/auth/me`. "
            "Console forms may send it as the form field `csrf_token` instead."
        ),
    },
}

ERROR_DESCRIPTIONS = {
    400: "The request could not be read.",
    401: "No valid session cookie or API token (`WWW-Authenticate: Bearer`).",
    403: "Authenticated, but the role or token scope does not allow this, or the CSRF token is missing or wrong.",
    404: "The object does not exist, or the caller may not see it (existence is never revealed).",
    409: "The change collides with the current state (a duplicate, or the wrong workflow state).",
    413: "The request body is over the configured limit.",
    422: "The input was understood but refused; `where` names the field, `fields` lists each invalid field.",
}


def security(*, kind: str, method: str) -> list[dict[str, list[str]]]:
    """The OpenAPI security requirement for an authentication `kind`: "caller" (token or session), "user"
    (session only), "token" (API token only) or "none"."""
    if kind == "none":
        return []
    if kind == "token":
        return [{"bearerAuth": []}]
    cookie: dict[str, list[str]] = {"sessionCookie": []}
    if method.lower() in UNSAFE:
        cookie["csrfHeader"] = []
    return [cookie] if kind == "user" else [{"bearerAuth": []}, cookie]


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def auth_kind(route: APIRoute) -> str:
    calls = set(_calls(route.dependant))
    if deps.get_user in calls:
        return "user"
    if deps.get_principal in calls:
        return "caller"
    return "none"


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """(full path, lower-case method) -> route, through included routers (whose routes keep their own path)."""
    found: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format:
            found.update({(context.path_format, m.lower()): route for m in route.methods or ()})
    return found


def error_statuses(route: APIRoute, path: str, method: str, operation: dict[str, Any], kind: str) -> set[int]:
    """The error statuses of the hierarchy that apply to one operation (plus those the route declares)."""
    statuses = {int(code) for code in operation.get("responses", {}) if str(code)[0] in "45"}
    if kind != "none":
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if method in UNSAFE and kind != "none" and (route.body_field is not None or "{" in path):
        statuses.add(409)  # a change to an object or a new one can collide; ingest and logout cannot
    return statuses


def _error_response(status: int, current: dict[str, Any] | None) -> dict[str, Any]:
    description = (current or {}).get("description") or ERROR_DESCRIPTIONS.get(status, "Error.")
    if description == "Validation Error":
        description = ERROR_DESCRIPTIONS[422]
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}


def _add_error_schemas(document: dict[str, Any]) -> None:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["ErrorBody"] = schema
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 shape, replaced above
        schemas.pop(unused, None)


def document(app: FastAPI, *, ingest_max_bytes: int) -> dict[str, Any]:
    """The whole document, built once and cached on the app like FastAPI's own."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        separate_input_output_schemas=False,
    )
    routes = api_routes(app)
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes[(path, method)]
            # A route authenticating inside its handler (the stream) or token-only (ingest) says so itself.
            kind = operation.pop("x-mamori-auth", None) or auth_kind(route)
            operation["security"] = security(kind=kind, method=method)
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(route, path, method, operation, kind)):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
    _document_ingest_limit(doc, ingest_max_bytes)
    _add_error_schemas(doc)
    doc["components"]["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = doc
    return doc


def _document_ingest_limit(doc: dict[str, Any], limit: int) -> None:
    operation = doc.get("paths", {}).get("/api/v1/ingest", {}).get("post")
    if operation and "requestBody" in operation:
        body = operation["requestBody"]
        body["description"] += f" At most {limit} bytes, counted after gunzip (`MAMORI_INGEST_MAX_BYTES`)."
        body["x-max-body-bytes"] = limit


def operation_id(route: APIRoute) -> str:
    """Operation ids are the handler names (`list_alerts`), not FastAPI's name+path+method."""
    return route.name


def install(app: FastAPI, *, ingest_max_bytes: int) -> None:
    app.openapi = lambda: document(app, ingest_max_bytes=ingest_max_bytes)  # type: ignore[method-assign]
