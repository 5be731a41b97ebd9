from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
from mamori.alerts.schemas import AlertFilter, AlertOut, CommentOut, TriageAction
from mamori.api.deps import Caller, DbSession, PlatformDep, principal_for_stream
from mamori.incidents import service as incidents

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertRow(AlertOut):
    incident_id: int | None = Field(
        default=None, description="The incident this alert was escalated into, when the caller may see it."
    )
    escalated: bool = Field(default=False, description="The alert belongs to an incident (one at most).")


class AlertPage(BaseModel):
    total: int
    items: list[AlertRow]


def _rows(session: Session, principal: Principal, rows: Sequence[Alert]) -> list[AlertRow]:
    links = incidents.incident_of_alerts(session, principal=principal, alert_ids=[a.id for a in rows])
    return [
        AlertRow.model_validate(
            {**AlertOut.model_validate(a).model_dump(), "incident_id": links.get(a.id), "escalated": a.id in links}
        )
        for a in rows
    ]


class AlertDetail(AlertRow):
    events: list[dict[str, Any]]
    comments: list[CommentOut]


@router.get("")
def list_alerts(filters: Annotated[AlertFilter, Depends()], session: DbSession, principal: Caller) -> AlertPage:
    rows, total = alerts.list_(session, principal=principal, filters=filters)
    return AlertPage(total=total, items=_rows(session, principal, rows))


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
            **_rows(session, principal, [alert])[0].model_dump(),
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
