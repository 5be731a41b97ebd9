from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from mamori.alerts import service as alerts
from mamori.alerts.schemas import (
    AlertFilter,
    AlertOut,
    AssigneeOut,
    BulkResult,
    BulkTriage,
    CommentOut,
    TriageAction,
)
from mamori.api.deps import Caller, DbSession, PlatformDep, principal_for_stream

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertPage(BaseModel):
    total: int
    items: list[AlertOut]


class AlertDetail(AlertOut):
    events: list[dict[str, Any]]
    comments: list[CommentOut]


@router.get("")
def list_alerts(filters: Annotated[AlertFilter, Depends()], session: DbSession, principal: Caller) -> AlertPage:
    rows, total = alerts.list_(session, principal=principal, filters=filters)
    return AlertPage(total=total, items=[AlertOut.model_validate(a) for a in rows])


@router.get("/stream")
async def stream(request: Request, platform: PlatformDep) -> StreamingResponse:
    """Server-Sent Events: one `alert` event per new or changed alert the caller may see."""
    principal = await asyncio.to_thread(principal_for_stream, request, platform)
    visible = principal.require_any("alerts.view")
    queue = platform.broadcaster.listen()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if visible is None or message.get("org") in visible:
                    yield b"event: alert\ndata: " + orjson.dumps(message) + b"\n\n"
        finally:
            platform.broadcaster.forget(queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}")
def get_alert(alert_id: int, session: DbSession, principal: Caller) -> AlertDetail:
    alert = alerts.get(session, principal=principal, alert_id=alert_id)
    return AlertDetail.model_validate(
        {
            **AlertOut.model_validate(alert).model_dump(),
            "events": alerts.events_of(session, principal=principal, alert_id=alert_id),
            "comments": [
                CommentOut.model_validate(c)
                for c in alerts.comments_of(session, principal=principal, alert_id=alert_id)
            ],
        }
    )


@router.post("/{alert_id}/actions")
def act(alert_id: int, action: TriageAction, session: DbSession, principal: Caller) -> AlertOut:
    return AlertOut.model_validate(alerts.triage(session, principal=principal, alert_id=alert_id, action=action))


@router.get("/{alert_id}/assignees")
def assignees(alert_id: int, session: DbSession, principal: Caller) -> list[AssigneeOut]:
    """Who this alert may be assigned to (people who may triage its organisation), by name."""
    people = alerts.assignees_for(session, principal=principal, alert_id=alert_id)
    return [AssigneeOut.model_validate(u) for u in people]


@router.post("/bulk")
def bulk(request: BulkTriage, session: DbSession, principal: Caller) -> BulkResult:
    """One action for many alerts; the answer says, per id, whether it was done or why not."""
    return alerts.bulk_triage(session, principal=principal, request=request)
