"""The live alert feed numbers its events, and a reconnect with Last-Event-ID is sent what it missed."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mamori.alerts import live
from mamori.alerts import service as alerts
from mamori.platform import Platform
from mamori.storage.outbox import OutboxMessage
from tests.conftest import login
from tests.platform.test_alerts import det

FRAME = re.compile(rb"id: (\d+)\nevent: alert\ndata: (.+)")


def listen(client: TestClient, *, until: int, headers: dict[str, str] | None = None) -> list[tuple[int, Any]]:
    """(id, data) of the first `until` alert events, read in a thread (the stream never ends by itself)."""
    received: list[tuple[int, Any]] = []
    buffer: list[bytes] = []

    def run() -> None:
        with client.stream("GET", "/api/v1/alerts/stream", headers=headers or {}) as stream:
            for line in stream.iter_lines():
                buffer.append(line.encode())
                if line == "" and buffer:
                    frame = FRAME.search(b"\n".join(buffer))
                    if frame:
                        received.append((int(frame.group(1)), orjson.loads(frame.group(2))))
                    buffer.clear()
                if len(received) >= until:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return_after = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < return_after:
        time.sleep(0.05)
    return received


def fold_and_publish(platform: Platform, *detections: Any) -> None:
    with platform.db.session() as s:
        alerts.fold(s, list(detections))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the app's relay publishes the outbox rows
        with platform.db.session() as s:
            if not s.scalar(select(func.count()).where(OutboxMessage.published_at.is_(None))):
                return
        time.sleep(0.05)
    raise AssertionError("the relay did not publish")


def test_every_event_has_an_id_and_a_reconnect_receives_what_it_missed(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    live: list[tuple[int, Any]] = []
    thread = threading.Thread(target=lambda: live.extend(listen(client, until=1)), daemon=True)
    thread.start()
    time.sleep(0.5)
    fold_and_publish(platform, det(1, org="mof", ip="192.0.2.1"))
    thread.join(timeout=12)
    assert len(live) == 1, live
    first_id, first = live[0]
    assert first["org"] == "mof" and "event_id" not in first

    # Disconnected: two changes for mof, one for another ministry.
    fold_and_publish(platform, det(2, org="mof", ip="192.0.2.2"), det(3, org="mofa", ip="192.0.2.3"))
    fold_and_publish(platform, det(4, org="mof", ip="192.0.2.4"))
    missed = listen(client, until=2, headers={"Last-Event-ID": str(first_id)})
    assert [m["src_ip"] for _, m in missed] == ["192.0.2.2", "192.0.2.4"]
    ids = [i for i, _ in missed]
    assert ids == sorted(ids) and ids[0] > first_id
    assert all(m["org"] == "mof" for _, m in missed)


def test_a_bad_last_event_id_is_refused_clearly(client: TestClient) -> None:
    login(client, "org_officer-mof")
    response = client.get("/api/v1/alerts/stream", headers={"Last-Event-ID": "yesterday"})
    assert response.status_code == 422
    assert response.json()["where"] == "header.Last-Event-ID"


def read_frames(client: TestClient, *, until: int, headers: dict[str, str]) -> list[tuple[str, int | None, Any]]:
    """(event name, id, data) of the first `until` events of any kind."""
    received: list[tuple[str, int | None, Any]] = []

    def run() -> None:
        with client.stream("GET", "/api/v1/alerts/stream", headers=headers) as stream:
            fields: dict[str, str] = {}
            for line in stream.iter_lines():
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                    continue
                if "event" in fields:
                    ident = int(fields["id"]) if "id" in fields else None
                    received.append((fields["event"], ident, orjson.loads(fields["data"])))
                fields = {}
                if len(received) >= until:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    return received


def test_a_reconnect_that_missed_more_than_the_bound_is_told_to_reload(client: TestClient, platform: Platform) -> None:
    login(client, "org_officer-mof")
    fold_and_publish(platform, det(1, org="mof", ip="192.0.2.1"))
    with platform.db.session() as s:
        first = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first is not None
        start, payload, published = first.id, first.payload, first.published_at
        s.add_all(
            OutboxMessage(subject=first.subject, payload=payload, published_at=published)
            for _ in range(live.REPLAY_LIMIT + 20)
        )
    with platform.db.session() as s:
        newest = s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id.desc())).all()[: live.REPLAY_LIMIT]
    frames = read_frames(client, until=live.REPLAY_LIMIT + 1, headers={"Last-Event-ID": str(start)})
    assert frames[0][0] == "reset", frames[:2]
    assert frames[0][2]["missed"] == 20 and frames[0][2]["reload"] is True
    assert [i for _, i, _ in frames[1:]] == sorted(newest)
