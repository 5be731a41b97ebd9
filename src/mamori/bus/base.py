"""What every bus adapter offers. Delivery is at-least-once: consumers must be idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, subject: str, payload: dict[str, Any]) -> None:
        """Deliver to every consumer group subscribed to `subject`."""
        ...

    async def subscribe(self, subject: str, *, group: str, handler: Handler) -> None:
        """Each group gets every message once; a handler that raises gets the message again later."""
        ...

    def depth(self) -> dict[str, int]:
        """Messages waiting per group, for /metrics."""
        ...
