"""Recently parsed batches kept in memory for the detect stage of the same process."""

from __future__ import annotations

from collections import OrderedDict

from mamori.core.messages import Event


class BatchCache:
    """Parsed events of recent batches, so the embedded pipeline need not read them back from Parquet."""

    def __init__(self, max_batches: int = 256) -> None:
        self._items: OrderedDict[str, list[Event]] = OrderedDict()
        self._max = max_batches

    def put(self, batch_id: str, events: list[Event]) -> None:
        self._items[batch_id] = events
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def pop(self, batch_id: str) -> list[Event] | None:
        return self._items.pop(batch_id, None)
