"""One Redis pub/sub subscription, held for as long as its owner lives.

It subscribes on first use and subscribes again `RESUBSCRIBE_PAUSE_SECONDS` after Redis
drops it, for ever: what its owner learns over the channel is always a hint that a slower
path (a sweep, a poll) also finds, so a gap costs time, never data.
"""

import asyncio
from collections.abc import Callable

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)
RESUBSCRIBE_PAUSE_SECONDS = 1.0


class ChannelSubscription:
    def __init__(self, client: redis.Redis, channel: str, on_message: Callable[[bytes | str], None], fallback: str):
        # A client of its own, without a read timeout: a subscription is mostly silence.
        self._client = client
        self._channel = channel
        self._on_message = on_message
        # What the owner does meanwhile, for the warning: "the relay sweeps", "readers poll".
        self._fallback = fallback
        self._listener: asyncio.Task[None] | None = None
        self.subscribed = False

    def ensure_listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())

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
                    self.subscribed = True
                    async for message in subscription.listen():
                        if message.get("type") == "message":
                            self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning("subscription to %s unavailable (%s); %s", self._channel, error, self._fallback)
            finally:
                self.subscribed = False
            await asyncio.sleep(RESUBSCRIBE_PAUSE_SECONDS)
