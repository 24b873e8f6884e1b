"""Wakes the relay when a business appends, over Redis pub/sub.

The event store announces each business once per group commit, with its log's new head
(one `PUBLISH`, no database round trip), and the relay holds one subscription: it reads
the log up to that head without asking the database for heads first. A wake is a hint: when Redis is away, or
a message is lost, the relay's sweep (every `relay_idle_sleep_seconds`) finds the work, so
nothing is ever left unpublished, only published later.

It replaces a change stream on the business logs, which cost the database a `getMore` per
wake, and one more per write to any collection (SecantusDB ends a waiting `getMore` on
every write).
"""

import asyncio
from collections.abc import Collection

import redis.asyncio as redis
from redis.exceptions import RedisError

from application.partitions import log_partition_of
from application.ports import AppendAnnouncer, AppendSignal
from infrastructure.redis.availability import RedisAvailability
from infrastructure.redis.subscription import ChannelSubscription


class RedisAppendAnnouncer(AppendAnnouncer):
    def __init__(self, client: redis.Redis, channel: str, availability: RedisAvailability):
        self._client = client
        self._channel = channel
        self._availability = availability

    async def appended(self, business_id: str, head: int) -> None:
        if not self._availability.usable():
            return
        try:
            await self._client.publish(self._channel, f"{head} {business_id}")
        except (RedisError, OSError) as error:
            self._availability.failed("wake the relay", error)


class RedisAppendSignal(AppendSignal):
    def __init__(self, client: redis.Redis, channel: str, log_partitions: int):
        self._subscription = ChannelSubscription(client, channel, self._note, "the relay sweeps")
        self._log_partitions = log_partitions
        # business -> the furthest head announced since the last `wait`
        self._appended: dict[str, int] = {}
        self._changed = asyncio.Event()

    async def wait(self, partitions: Collection[int], timeout: float) -> dict[str, int]:
        self._subscription.ensure_listening()
        mine = self._take(partitions)
        if mine:
            return mine
        try:
            await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        except TimeoutError:
            pass
        return self._take(partitions)

    def _take(self, partitions: Collection[int]) -> dict[str, int]:
        self._changed.clear()
        mine = {
            business_id: head
            for business_id, head in self._appended.items()
            if log_partition_of(business_id, self._log_partitions) in partitions
        }
        # Businesses of partitions this relay does not hold are someone else's work.
        self._appended.clear()
        return mine

    async def close(self) -> None:
        await self._subscription.close()

    def _note(self, data: bytes | str) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        head, _, business_id = text.partition(" ")
        if not head.isdigit() or not business_id:
            return  # not an announcement of ours: the sweep covers whatever it meant
        self._appended[business_id] = max(int(head), self._appended.get(business_id, 0))
        self._changed.set()
