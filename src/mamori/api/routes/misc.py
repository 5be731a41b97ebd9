from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from mamori.alerts import stats
from mamori.api.deps import Caller, DbSession, PlatformDep, UserCaller
from mamori.audit import service as audit
from mamori.core.errors import ValidationFailed
from mamori.core.times import Instant
from mamori.ingest import service as ingest
from mamori.ingest.schemas import DeadLetterOut

router = APIRouter(tags=["platform"])
public = APIRouter(tags=["health"])

FIELD_PREFIX = "field."


@public.get("/api/v1/health")
def health(platform: PlatformDep) -> dict[str, Any]:
    """Liveness and readiness: database, bus, pending batches, whether rules are loaded. Needs no authentication."""
    with platform.db.session() as session:
        pending = ingest.count_pending(session)
    return {
        "status": "ok",
        "database": platform.db.engine.dialect.name,
        "bus": platform.settings.bus,
        "pending_batches": pending,
        "rules_loaded": platform.matcher is not None,
    }


@public.get("/metrics")
def metrics(platform: PlatformDep) -> Response:
    """Prometheus text format. Deliberately unauthenticated like most exporters; bind it to a trusted network."""
    for consumer, depth in platform.bus.depth().items():
        platform.metrics.queue_depth.labels(consumer).set(depth)
    return Response(platform.metrics.render(), media_type="text/plain; version=0.0.4")


class EventPage(BaseModel):
    items: list[dict[str, Any]]


@router.get("/events")
def events(
    request: Request,
    principal: Caller,
    platform: PlatformDep,
    since: Instant | None = None,
    until: Instant | None = None,
    org: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> EventPage:
    """Archived events in a time range; filter on any field with `field.<name>=<value>` (exact match)."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=1)
    filters = {k[len(FIELD_PREFIX) :]: v for k, v in request.query_params.items() if k.startswith(FIELD_PREFIX)}
    if len(filters) > 10:
        raise ValidationFailed("at most 10 field filters", where="field.*")
    items = ingest.search_events(
        platform.archive,
        principal=principal,
        org=org,
        since=since,
        until=until,
        filters=filters,
        text=q,
        limit=limit,
        offset=offset,
    )
    return EventPage(items=items)


@router.get("/dead-letters")
def dead_letters(
    session: DbSession, principal: Caller, org: str | None = None, before_id: int | None = None
) -> list[DeadLetterOut]:
    """Records that could not be read, newest first, with the reason; page with `before_id`."""
    rows = ingest.list_dead_letters(session, principal=principal, org=org, before_id=before_id)
    return [DeadLetterOut.model_validate({**_columns(r), "raw_text": r.raw.decode("utf-8", "replace")}) for r in rows]


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


@router.get("/audit")
def audit_log(
    session: DbSession, principal: UserCaller, action: str | None = None, before_id: int | None = None
) -> list[dict[str, Any]]:
    """The audit log of the organisations the caller may audit, newest first; page with `before_id`."""
    orgs = principal.require_any("audit.view")
    return [_columns(e) for e in audit.list_(session, orgs=orgs, action=action, before_id=before_id)]


@router.get("/stats/dashboard")
def dashboard(session: DbSession, principal: Caller) -> dict[str, Any]:
    """The national dashboard's numbers: potential attacks per day and organisation, today against the same day
    last year, top rules and sources."""
    board = stats.dashboard(session, principal=principal, now=datetime.now(UTC))
    return {
        "days": [d.isoformat() for d in board.days],
        "per_org": board.per_org,
        "today": board.today,
        "same_day_last_year": board.same_day_last_year,
        "includes_demo_history": board.includes_demo_history,
        "top_rules": board.top_rules,
        "top_sources": board.top_sources,
        "open_by_org": board.open_by_org,
    }
