from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from mamori.accounts.principal import Principal
from mamori.alerts import live
from mamori.alerts import service as alerts
from mamori.alerts.models import Alert
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
from mamori.core.errors import ValidationFailed
from mamori.incidents import service as incidents
from mamori.platform import Platform

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
    """Alerts the caller may see, newest first, filtered and paged; `total` counts every match."""
    rows, total = alerts.list_(session, principal=principal, filters=filters)
    return AlertPage(total=total, items=_rows(session, principal, rows))


STREAM_DOC: dict[str, Any] = {
    "x-mamori-auth": "caller",  # authenticated inside the handler (no session held while it streams)
    "responses": {"200": {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
}


@router.get("/stream", response_class=StreamingResponse, openapi_extra=STREAM_DOC)
async def stream(
    request: Request,
    platform: PlatformDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="The `id:` of the last event received; what was missed since is sent first.",
        ),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: one `alert` event per new or changed alert the caller may see.

    Every event carries an `id:` (monotonic). A reconnect sending `Last-Event-ID` (browsers do it by themselves)
    is first sent the changes it missed since, from the database: the newest 500 at most, and at most a day back.
    When it missed more than that (or its id is older than the day the server keeps), a `reset` event comes first,
    without an `id:`, with data `{"missed": <changes left out, or null when unknown>, "reload": true}`: the client
    must reload the alert list (`GET /api/v1/alerts`), then keep listening.
    """
    after = _event_id(last_event_id)
    principal = await asyncio.to_thread(principal_for_stream, request, platform)
    visible = principal.require_any("alerts.view")
    queue = platform.broadcaster.listen()  # before the replay: a change in between is in one or both, never lost

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            replayed: set[int] = set()
            if after is not None:
                replay = await asyncio.to_thread(_missed, platform, principal, after)
                if replay.incomplete:
                    yield _frame(None, {"missed": None if replay.gap else replay.missed, "reload": True}, "reset")
                for missed_id, summary in replay.changes:
                    replayed.add(missed_id)
                    yield _frame(missed_id, summary)
            while not await request.is_disconnected():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                event_id = message.get("event_id")
                if event_id in replayed or (visible is not None and message.get("org") not in visible):
                    continue
                yield _frame(event_id, {k: v for k, v in message.items() if k != "event_id"})
        finally:
            platform.broadcaster.forget(queue)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event_id(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    if not header.strip().isdigit():
        raise ValidationFailed("Last-Event-ID must be an event id sent by this stream", where="header.Last-Event-ID")
    return int(header)


def _missed(platform: Platform, principal: Principal, after: int) -> live.Replay:
    with platform.db.session() as session:
        return live.changes_since(session, principal=principal, after_id=after)


def _frame(event_id: int | None, summary: dict[str, Any], event: str = "alert") -> bytes:
    head = b"id: %d\n" % event_id if isinstance(event_id, int) else b""
    return head + b"event: " + event.encode() + b"\ndata: " + orjson.dumps(summary) + b"\n\n"


@router.get("/{alert_id}")
def get_alert(alert_id: int, session: DbSession, principal: Caller) -> AlertDetail:
    """One alert with its stored triggering events and its comments."""
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
    """A triage action on an alert: acknowledge, assign, close (with a resolution and a reason), comment or reopen.
    Audited."""
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
