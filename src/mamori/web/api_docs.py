"""The interactive API reference at /api/docs: Swagger UI served from a pinned package, never a CDN.

The assets come from the `fastapi-offline` wheel (Swagger UI, Apache-2.0, licence in its files); the page
loads them and `/static/api-docs.js` as files, so the console's strict CSP (no inline script) holds. It is
behind login like every console page; "Try it out" sends the session's CSRF token on unsafe requests.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from mamori.api.deps import DbSession, get_principal, get_user
from mamori.core.errors import AuthenticationRequired
from mamori.web.console import page

ASSETS_URL = "/vendor/swagger-ui"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs(request: Request, session: DbSession) -> Response:
    # Under /api/ an unauthenticated caller is answered JSON; a person opening the page is sent to log in.
    try:
        principal = get_user(get_principal(request, session, ""))
    except AuthenticationRequired:
        return RedirectResponse("/login", status_code=303)
    response: HTMLResponse = page(
        request, "api_docs.html", principal, spec_url="/api/v1/openapi.json", assets=ASSETS_URL
    )
    return response


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="swagger-ui")
