"""Commands on one customer take turns within a process.

Without this, N concurrent commands on one customer would all load the same version and
N-1 of them would conflict and retry, round after round. Across processes the optimistic
check in the event store still decides; this only removes the needless conflicts.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager


class CustomerLocks:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, customer_ids: Iterable[str]) -> AsyncIterator[None]:
        # Sorted, so that two merges of the same pair cannot wait on each other.
        ids = sorted(set(customer_ids))
        async with AsyncExitStack() as stack:
            for customer_id in ids:
                self._holders[customer_id] = self._holders.get(customer_id, 0) + 1
                stack.callback(self._release, customer_id)
                await stack.enter_async_context(self._locks.setdefault(customer_id, asyncio.Lock()))
            yield

    def _release(self, customer_id: str) -> None:
        self._holders[customer_id] -= 1
        if self._holders[customer_id] == 0:
            del self._holders[customer_id]
            del self._locks[customer_id]
