"""The bounded wait behind `min_version` and `min_position`: read, and if the read model is
not there yet, wait for the projector's next announcement (or a short poll) and read again."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.ports import ReadModelUpdates

T = TypeVar("T")


class ReadModelWait:
    def __init__(self, updates: ReadModelUpdates, max_wait_seconds: float):
        self._updates = updates
        self._max_wait = max_wait_seconds

    async def until(self, read: Callable[[], Awaitable[T | None]]) -> T | None:
        """`read()`'s first result that is not None, or None once the wait is over."""
        deadline = time.monotonic() + self._max_wait
        while True:
            # Taken before reading: an announcement that lands during the read wakes the
            # wait below at once instead of being missed.
            seen = self._updates.changes_seen()
            result = await read()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await self._updates.wait_for_change(seen, remaining)
