"""The reads of an inbound batch's concurrent messages, made together.

Each message reads its order's or payment's link and who holds its people's emails and
phones before it decides. With the batch's messages decided at once (see `inbox`), those
reads would cost a round trip each. Here a read that finds none running goes at once;
those that arrive while one runs wait and go together in the next (one read per business
for all their keys). A read that waits is answered by a read that began after it was
asked, so nothing is older than a read of its own would have been; the commit's version
checks guard the rest, as before.
"""

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from application.ports import ContactKeyHolders

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(eq=False)
class _Asked(Generic[K, V]):
    business_id: str
    keys: frozenset[K]
    answer: asyncio.Future[dict[K, V]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class SharedReads(Generic[K, V]):
    """`read_many(business_id, keys)` (what it finds, by key) shared by concurrent callers."""

    def __init__(self, read_many: Callable[[str, Collection[K]], Awaitable[Mapping[K, V]]]):
        self._read_many = read_many
        self._waiting: list[_Asked[K, V]] = []
        self._runner: asyncio.Task[None] | None = None
        self.reads = 0  # reads made (a test counts them)

    async def read(self, business_id: str, keys: Collection[K]) -> dict[K, V]:
        asked: _Asked[K, V] = _Asked(business_id, frozenset(keys))
        self._waiting.append(asked)
        if self._runner is None:
            # A task of its own: a caller that goes away must not cancel the others' read.
            self._runner = asyncio.create_task(self._drain())
        return await asyncio.shield(asked.answer)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                await self._answer(group)
        finally:
            self._runner = None

    async def _answer(self, group: list[_Asked[K, V]]) -> None:
        wanted: dict[str, set[K]] = {}
        for asked in group:
            wanted.setdefault(asked.business_id, set()).update(asked.keys)
        try:
            found: dict[str, Mapping[K, V]] = {}
            for business_id, keys in wanted.items():
                self.reads += 1
                found[business_id] = await self._read_many(business_id, keys)
        except BaseException as error:
            for asked in group:
                if not asked.answer.done():
                    asked.answer.set_exception(error)
                    asked.answer.exception()  # retrieved: a caller that went away is fine
            if not isinstance(error, Exception):
                raise
            return
        for asked in group:
            held = found[asked.business_id]
            if not asked.answer.done():
                asked.answer.set_result({key: held[key] for key in asked.keys if key in held})


class SharedHolderReads(ContactKeyHolders):
    """The contact-key holders, read together by concurrent messages."""

    def __init__(self, holders: ContactKeyHolders):
        self._reads: SharedReads[tuple[str, str], str] = SharedReads(holders.holders)

    @property
    def reads(self) -> int:
        return self._reads.reads

    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        return (await self.holders(business_id, [(kind, value)])).get((kind, value))

    async def holders(self, business_id: str, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        return await self._reads.read(business_id, keys)
