"""Wakes the relay when a business appends, from a change stream on the business logs.

Every append bumps its business's log head, so each change names a business that has new
events (about 0.3 ms after the commit on SecantusDB). When the server has no change
streams (a standalone mongod), `wait` falls back to sleeping: the relay's sweep then
finds the work.
"""

import asyncio
from collections.abc import Collection

import structlog
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from application.partitions import log_partition_of
from application.ports import AppendSignal
from infrastructure.mongo.documents import BusinessLog

log = structlog.get_logger(__name__)

EMPTY_WAKE_PAUSE_SECONDS = 0.005


class ChangeStreamAppendSignal(AppendSignal):
    def __init__(self, database: AsyncDatabase, log_partitions: int):
        self._logs = database[BusinessLog.Settings.name]
        self._log_partitions = log_partitions
        self._appended: set[str] = set()
        self._changed = asyncio.Event()
        self._watcher: asyncio.Task | None = None

    async def wait(self, partitions: Collection[int], timeout: float) -> set[str]:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())
        mine = self._take(partitions)
        if mine:
            return mine
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        except TimeoutError:
            pass
        return self._take(partitions)

    def _take(self, partitions: Collection[int]) -> set[str]:
        self._changed.clear()
        mine = {b for b in self._appended if log_partition_of(b, self._log_partitions) in partitions}
        # Businesses of partitions this relay does not hold are someone else's work.
        self._appended.clear()
        return mine

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch(self) -> None:
        while True:
            try:
                async with await self._logs.watch(max_await_time_ms=1000) as stream:
                    while stream.alive:
                        change = await stream.try_next()
                        if change is None:
                            # SecantusDB ends a waiting getMore on a write to any collection:
                            # a short pause keeps empty getMores from costing a round trip
                            # per projector write.
                            await asyncio.sleep(EMPTY_WAKE_PAUSE_SECONDS)
                            continue
                        business_id = change.get("documentKey", {}).get("_id")
                        if business_id is not None:
                            self._appended.add(business_id)
                            self._changed.set()
            except asyncio.CancelledError:
                raise
            except PyMongoError as error:
                # No change streams, or the server is away: the relay sweeps until it is back.
                log.warning("change stream unavailable; the relay sweeps", error=str(error))
                await asyncio.sleep(5)
