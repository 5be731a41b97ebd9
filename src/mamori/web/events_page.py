"""The event search page: the archive, queried with the same tenancy as the API's GET /events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from mamori.accounts import service as accounts
from mamori.api.deps import DbSession, PlatformDep, UserCaller
from mamori.core.errors import ValidationFailed
from mamori.ingest import service as ingest
from mamori.web.console import page

router = APIRouter(include_in_schema=False)
PAGE = 100


def _field_filter(raw: str) -> dict[str, str]:
    """`name=value` typed by a person; the archive validates the name and binds the value."""
    if not raw.strip():
        return {}
    name, sep, value = raw.partition("=")
    if not sep or not name.strip():
        raise ValidationFailed("write the field filter as name=value, e.g. c-ip=203.0.113.7", where="field")
    return {name.strip(): value.strip()}


@router.get("/events")
def events(
    request: Request,
    session: DbSession,
    principal: UserCaller,
    platform: PlatformDep,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
    org: Annotated[str, Query(max_length=64)] = "",
    field: Annotated[str, Query(max_length=300)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    until = datetime.now(UTC)
    rows = ingest.search_events(
        platform.archive,
        principal=principal,
        org=org or None,
        since=until - timedelta(hours=hours),
        until=until,
        filters=_field_filter(field),
        text=q or None,
        limit=PAGE,
        offset=offset,
    )
    return page(
        request,
        "events.html",
        principal,
        rows=rows,
        hours=hours,
        org=org,
        field=field,
        q=q,
        offset=offset,
        page_size=PAGE,
        orgs=accounts.list_orgs(session, principal=principal),
    )
