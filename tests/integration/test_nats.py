from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from mamori.bus.nats import NatsBus

pytestmark = pytest.mark.integration


async def _with_bus(url: str, body: Any) -> None:
    stream = f"MAMORI_T_{uuid.uuid4().hex[:10].upper()}"
    bus = NatsBus(url, stream=stream, prefix=f"t{uuid.uuid4().hex[:8]}.")
    await bus.start()
    try:
        await body(bus)
    finally:
        await bus._js.delete_stream(stream)
        await bus.close()


def test_each_group_gets_each_message_and_failures_are_redelivered(nats_url: str) -> None:
    async def body(bus: NatsBus) -> None:
        seen_a: list[int] = []
        seen_b: list[int] = []
        failed_once: set[int] = set()

        async def a(payload: dict[str, Any]) -> None:
            seen_a.append(payload["n"])

        async def b(payload: dict[str, Any]) -> None:
            if payload["n"] % 2 and payload["n"] not in failed_once:
                failed_once.add(payload["n"])
                raise RuntimeError("transient")
            seen_b.append(payload["n"])

        await bus.subscribe("mamori.events.accepted", group="a", handler=a)
        await bus.subscribe("mamori.events.accepted", group="b", handler=b)
        for n in range(10):
            await bus.publish("mamori.events.accepted", {"n": n})
        for _ in range(100):
            if len(seen_a) == 10 and len(set(seen_b)) == 10:
                break
            await asyncio.sleep(0.1)
        assert sorted(seen_a) == list(range(10))
        assert sorted(set(seen_b)) == list(range(10)) and failed_once == {1, 3, 5, 7, 9}

    asyncio.run(_with_bus(nats_url, body))
