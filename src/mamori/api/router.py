"""All API routes under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.api.routes import accounts, alerts, auth, incidents, ingest, misc, response, websites

api = APIRouter(prefix="/api/v1")
for module in (auth, accounts, alerts, incidents, response, ingest, misc, websites):
    api.include_router(module.router)
public = misc.public
