"""Wakes the relay when an append commits, from a change stream on the position counter.

Every append bumps that one counter document, so one change means "new events". When the
server has no change streams (a standalone mongod), `wait` falls back to sleeping: the
relay then simply polls.
"""

import asyncio
import logging

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from application.ports import NewEventsSignal
from infrastructure.mongo.documents import PositionCounter

log = logging.getLogger(__name__)


class ChangeStreamNewEventsSignal(NewEventsSignal):
    def __init__(self, database: AsyncDatabase):
        self._counters = database[PositionCounter.Settings.name]
        self._changed = asyncio.Event()
        self._watcher: asyncio.Task | None = None

    async def wait(self, timeout: float) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch())
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        except TimeoutError:
            pass
        self._changed.clear()

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    async def _watch(self) -> None:
        while True:
            try:
                async with await self._counters.watch(max_await_time_ms=1000) as stream:
                    async for _ in stream:
                        self._changed.set()
            except asyncio.CancelledError:
                raise
            except PyMongoError as error:
                # No change streams, or the server is away: the relay polls until it is back.
                log.warning("change stream unavailable (%s); the relay polls", error)
                self._changed.set()
                await asyncio.sleep(5)
