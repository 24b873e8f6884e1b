"""The bounded wait behind `min_version` and `min_position`: read, and if the read model is
not there yet, wait for the projector's next announcement (or a short poll) and read again."""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.errors import PositionNotFound, ProjectionBehind
from application.ports import Checkpoints, EventStore, ReadModelUpdates

T = TypeVar("T")

# A waiting reader reads again at most this often, however many batches the projector
# announces or however fast it polls: one wait costs at most 1 + wait / this reads (41 for
# the default 2 s), so waits can't be used to multiply the load on the read model.
MIN_REREAD_SECONDS = 0.05


class ReadModelWait:
    def __init__(self, updates: ReadModelUpdates, max_wait_seconds: float):
        self._updates = updates
        self._max_wait = max_wait_seconds

    def max_reads(self) -> int:
        return 1 + math.ceil(round(self._max_wait / MIN_REREAD_SECONDS, 6))

    async def until(self, read: Callable[[], Awaitable[T | None]]) -> T | None:
        """`read()`'s first result that is not None, or None once the wait is over. Callers
        refuse what can never be reached before waiting (a version or position the log has
        not got to), so a wait only ever covers the projector's lag."""
        deadline = time.monotonic() + self._max_wait
        while True:
            # Taken before reading: an announcement that lands during the read wakes the
            # wait below at once instead of being missed.
            seen = self._updates.changes_seen()
            read_at = time.monotonic()
            result = await read()
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await self._updates.wait_for_change(seen, remaining)
            pause = read_at + MIN_REREAD_SECONDS - time.monotonic()
            if pause > 0:
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))


class PositionWait:
    """`min_position`: waits until every partition of a projection has applied a business's
    log up to a position. A position beyond the business's head can never be reached: it
    is refused at once, without waiting (or reading again and again meanwhile)."""

    def __init__(self, wait: ReadModelWait, checkpoints: Checkpoints, event_store: EventStore):
        self._wait = wait
        self._checkpoints = checkpoints
        self._event_store = event_store

    async def until_reached(self, projection: str, business_id: str, position: int) -> None:
        if await self._checkpoints.reached(projection, business_id) >= position:
            return
        head = await self._event_store.head_position(business_id)
        if position > head:
            raise PositionNotFound(position, head)

        async def reached() -> bool | None:
            return True if await self._checkpoints.reached(projection, business_id) >= position else None

        if not await self._wait.until(reached):
            raise ProjectionBehind(position, await self._checkpoints.reached(projection, business_id))
