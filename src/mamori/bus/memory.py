"""In-process bus for the embedded mode: one asyncio queue per consumer group.

Durability comes from the outbox, not from this bus: a message is published only after the commit that
records it, and the relay re-publishes whatever was not acknowledged before a crash.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mamori.bus.base import Handler

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.1, 0.5, 2.0, 5.0)


class MemoryBus:
    def __init__(self, maxsize: int = 10_000) -> None:
        self._maxsize = maxsize
        self._groups: dict[tuple[str, str], asyncio.Queue[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.failures = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def publish(self, subject: str, payload: dict[str, Any]) -> None:
        for (subj, _group), queue in self._groups.items():
            if subj == subject:
                await queue.put(payload)  # back-pressure: waits when a consumer is behind

    async def subscribe(self, subject: str, *, group: str, handler: Handler) -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._maxsize)
        self._groups[(subject, group)] = queue
        self._tasks.append(asyncio.create_task(self._consume(queue, handler, f"{subject}/{group}")))

    async def _consume(self, queue: asyncio.Queue[dict[str, Any]], handler: Handler, name: str) -> None:
        while True:
            payload = await queue.get()
            await self._deliver(payload, handler, name)
            queue.task_done()

    async def _deliver(self, payload: dict[str, Any], handler: Handler, name: str) -> None:
        for delay in (*RETRY_DELAYS, None):
            try:
                await handler(payload)
                return
            except Exception:
                self.failures += 1
                log.exception("consumer %s failed", name)
                if delay is None:
                    return  # the outbox row stays unacknowledged for this group; the relay redelivers
                await asyncio.sleep(delay)

    async def drain(self) -> None:
        """Wait until every queue is empty and handled (tests, orderly shutdown)."""
        for queue in list(self._groups.values()):
            await queue.join()

    def depth(self) -> dict[str, int]:
        return {f"{s}/{g}": q.qsize() for (s, g), q in self._groups.items()}
