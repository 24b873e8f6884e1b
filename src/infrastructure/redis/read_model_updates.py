"""Read-your-writes notifications over Redis pub/sub.

The projectors publish a message after each batch they applied. Each API
process holds one subscription and wakes its waiting readers on every message; they then
read the read model again. When Redis is away (or the subscription is not up yet),
readers fall back to polling every `poll_seconds`, and the projector's publishes are
dropped: the readers' polling does not need them.
"""

import asyncio

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from application.ports import ReadModelAnnouncer, ReadModelUpdates
from infrastructure.redis.availability import RedisAvailability

log = structlog.get_logger(__name__)
# A subscribed reader still looks this often, in case a message was lost.
SUBSCRIBED_RECHECK_SECONDS = 0.25
RESUBSCRIBE_PAUSE_SECONDS = 1.0


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
        # A client of its own, without a read timeout: a subscription is mostly silence.
        self._client = client
        self._channel = channel
        self._poll = poll_seconds
        self._seen = 0
        self._changed = asyncio.Event()
        self._subscribed = False
        self._listener: asyncio.Task | None = None

    def changes_seen(self) -> int:
        return self._seen

    async def wait_for_change(self, seen: int, timeout: float) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        if self._seen > seen:
            return
        if not self._subscribed:
            await asyncio.sleep(min(timeout, self._poll))
            return
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout=min(timeout, SUBSCRIBED_RECHECK_SECONDS))
        except TimeoutError:
            pass

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._client.aclose()

    async def _listen(self) -> None:
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as subscription:
                    await subscription.subscribe(self._channel)
                    self._subscribed = True
                    async for message in subscription.listen():
                        if message.get("type") == "message":
                            self._wake_readers()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning("read-model notifications unavailable (%s); readers poll", error)
            finally:
                self._subscribed = False
            await asyncio.sleep(RESUBSCRIBE_PAUSE_SECONDS)

    def _wake_readers(self) -> None:
        self._seen += 1
        # Readers waiting on the old event wake; later ones wait on the new one.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
