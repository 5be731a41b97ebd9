"""Fan-out of live changes to Server-Sent Events listeners (each console tab holds one queue)."""

from __future__ import annotations

import asyncio
from typing import Any


class Broadcaster:
    def __init__(self, per_listener: int = 200) -> None:
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._per_listener = per_listener

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._per_listener)
        self._listeners.add(queue)
        return queue

    def forget(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._listeners.discard(queue)

    def send(self, message: dict[str, Any]) -> None:
        for queue in list(self._listeners):
            if queue.full():  # a slow tab skips live updates; it reloads the list, nothing is lost
                queue.get_nowait()
            queue.put_nowait(message)

    @property
    def listeners(self) -> int:
        return len(self._listeners)
