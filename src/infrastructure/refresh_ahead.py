"""A value read from the database and used for at most `max_age` seconds, re-read ahead of
time so that a caller on a hot path (a projector's batch, a GET) does not wait for it.

Past half its age, a caller starts a read in the background and goes on with the value it
has; only a caller that finds it older than `max_age` (nobody asked for a while) waits for
a read. So a value in use is never older than `max_age`, as when every caller past it read
the value itself, and under steady traffic no caller waits. Ages count from when a read
started, and a read started before `forget()` never lands.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import structlog

T = TypeVar("T")
log = structlog.get_logger(__name__)


class RefreshAhead(Generic[T]):
    def __init__(
        self,
        read: Callable[[], Awaitable[T]],
        max_age_seconds: float,
        what: str,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._read = read
        self._monotonic = monotonic
        self._max_age = max_age_seconds
        self._what = what
        self._value: T | None = None
        self._read_at = float("-inf")
        self._forgotten = 0  # moves on at each forget(): reads started before it are dropped
        self._reading: asyncio.Lock | None = None
        self._ahead: asyncio.Task[None] | None = None

    async def get(self) -> T:
        age = self._monotonic() - self._read_at
        if age >= self._max_age or self._value is None:
            await self._read_now()
        elif age >= self._max_age / 2 and (self._ahead is None or self._ahead.done()):
            self._ahead = asyncio.create_task(self._read_ahead())
        assert self._value is not None
        return self._value

    def set(self, value: T) -> None:
        """What this process just wrote (it knows the value without reading it)."""
        self.forget()
        self._value, self._read_at = value, self._monotonic()

    def forget(self) -> None:
        """The next `get` reads again (this process changed what is stored)."""
        self._forgotten += 1
        self._read_at = float("-inf")

    async def _read_now(self) -> None:
        if self._reading is None:
            self._reading = asyncio.Lock()
        async with self._reading:
            if self._monotonic() - self._read_at < self._max_age and self._value is not None:
                return  # another caller read it meanwhile
            while not await self._read_into_value():
                pass  # a forget() overtook that read: read again

    async def _read_ahead(self) -> None:
        try:
            await self._read_into_value()
        except Exception as error:  # the next caller past max_age reads it itself, and fails loudly
            log.warning("could not read ahead", what=self._what, error=str(error))

    async def _read_into_value(self) -> bool:
        started, forgotten = self._monotonic(), self._forgotten
        value = await self._read()
        if forgotten != self._forgotten:
            return False
        if started > self._read_at:  # not older than what a concurrent read brought
            self._value, self._read_at = value, started
        return True
