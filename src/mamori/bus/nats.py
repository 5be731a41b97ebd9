"""NATS JetStream adapter for the scaled mode: one stream for every mamori subject, one durable pull
consumer per consumer group, explicit acks (a handler that raises gets the message again, with back-off).

`prefix` lets several deployments (or test runs) share one NATS server without seeing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats
import orjson
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from mamori.bus.base import Handler

log = logging.getLogger(__name__)

MAX_DELIVER = 20


class NatsBus:
    def __init__(self, url: str, *, stream: str = "MAMORI", prefix: str = "") -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self._nc: Any = None
        self._js: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: dict[str, int] = {}

    def _subject(self, subject: str) -> str:
        return f"{self.prefix}{subject}"

    async def start(self) -> None:
        self._nc = await nats.connect(self.url, name="mamori", max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        config = StreamConfig(name=self.stream, subjects=[self._subject("mamori.>")], max_age=7 * 24 * 3600)
        try:
            await self._js.add_stream(config)
        except Exception:  # the stream exists (another process created it): keep it, update its config
            await self._js.update_stream(config)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None:
            # Consumers are stopped above and every publish awaited its ack, so nothing is in flight:
            # close at once (drain would wait for the pending pull requests to time out).
            await self._nc.close()

    async def publish(self, subject: str, payload: dict[str, Any]) -> None:
        await self._js.publish(self._subject(subject), orjson.dumps(payload), stream=self.stream)

    async def subscribe(self, subject: str, *, group: str, handler: Handler) -> None:
        durable = f"{group}-{subject}".replace(".", "_").replace("*", "_").replace(">", "_")
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_deliver=MAX_DELIVER, ack_wait=60)
        sub = await self._js.pull_subscribe(self._subject(subject), durable=durable, stream=self.stream, config=config)
        self._tasks.append(asyncio.create_task(self._consume(sub, handler, durable)))

    async def _consume(self, sub: Any, handler: Handler, name: str) -> None:
        while True:
            try:
                messages = await sub.fetch(batch=20, timeout=1)
            except NatsTimeout:
                continue
            except Exception:
                log.exception("fetch failed for %s", name)
                await asyncio.sleep(1)
                continue
            for message in messages:
                await self._handle(message, handler, name)
            with contextlib.suppress(Exception):
                info = await sub.consumer_info()
                self._pending[name] = int(info.num_pending)

    async def _handle(self, message: Any, handler: Handler, name: str) -> None:
        try:
            payload = orjson.loads(message.data)
            await handler(payload)
        except orjson.JSONDecodeError:
            log.error("dropping undecodable message on %s", name)
            await message.term()
            return
        except Exception:
            attempt = message.metadata.num_delivered if message.metadata else 1
            log.exception("consumer %s failed (delivery %s)", name, attempt)
            await message.nak(delay=min(30.0, 0.5 * 2**attempt))
            return
        await message.ack()

    def depth(self) -> dict[str, int]:
        return dict(self._pending)
