"""Read-your-writes notifications over Redis pub/sub.

The projectors publish a message after each batch they applied. Each API
process holds one subscription and wakes its waiting readers on every message; they then
read the read model again. When Redis is away (or the subscription is not up yet),
readers fall back to polling every `poll_seconds`, and the projector's publishes are
dropped: the readers' polling does not need them.
"""

import asyncio

import redis.asyncio as redis
from redis.exceptions import RedisError

from application.ports import ReadModelAnnouncer, ReadModelUpdates
from infrastructure.redis.availability import RedisAvailability
from infrastructure.redis.subscription import ChannelSubscription

# A subscribed reader still looks this often, in case a message was lost.
SUBSCRIBED_RECHECK_SECONDS = 0.25


class RedisReadModelAnnouncer(ReadModelAnnouncer):
    def __init__(self, client: redis.Redis, channel: str, availability: RedisAvailability):
        self._client = client
        self._channel = channel
        self._availability = availability

    async def announce(self) -> None:
        if not self._availability.usable():
            return
        try:
            await self._client.publish(self._channel, "1")
        except (RedisError, OSError) as error:
            self._availability.failed("announce read-model progress", error)


class RedisReadModelUpdates(ReadModelUpdates):
    def __init__(self, client: redis.Redis, channel: str, poll_seconds: float):
        self._subscription = ChannelSubscription(client, channel, self._wake_readers, "readers poll")
        self._poll = poll_seconds
        self._seen = 0
        self._changed = asyncio.Event()

    def changes_seen(self) -> int:
        return self._seen

    async def wait_for_change(self, seen: int, timeout: float) -> None:
        self._subscription.ensure_listening()
        if self._seen > seen:
            return
        if not self._subscription.subscribed:
            await asyncio.sleep(min(timeout, self._poll))
            return
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout=min(timeout, SUBSCRIBED_RECHECK_SECONDS))
        except TimeoutError:
            pass

    async def close(self) -> None:
        await self._subscription.close()

    def _wake_readers(self, _: bytes | str) -> None:
        self._seen += 1
        # Readers waiting on the old event wake; later ones wait on the new one.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
