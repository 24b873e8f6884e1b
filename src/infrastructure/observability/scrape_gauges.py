"""The gauges computed when `/metrics` is scraped: outbox, projection lag, dead letters,
cache hit ratio. Each source is asked within a bound, so a scrape never hangs on a
server that is away (its gauges then keep their last value)."""

import asyncio

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from application.outbox_relay import RELAY_CHECKPOINT
from infrastructure.container import Container
from infrastructure.messaging.topology import PROJECTIONS
from infrastructure.observability.metrics import (
    CACHE_HIT_RATIO,
    DEAD_LETTERS,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    PROJECTION_LAG_EVENTS,
    PROJECTION_LAG_SECONDS,
)
from infrastructure.operations.log_lag import head_position, lag_of

SOURCE_TIMEOUT_SECONDS = 1.0


class ScrapeGauges:
    def __init__(self, container: Container):
        self._container = container
        self._amqp: AbstractRobustConnection | None = None

    async def refresh(self) -> None:
        await asyncio.gather(
            _bounded(self._from_mongodb()), _bounded(self._dead_letters()), return_exceptions=True
        )
        self._cache_ratio()

    async def close(self) -> None:
        if self._amqp is not None:
            await self._amqp.close()

    async def _from_mongodb(self) -> None:
        database = self._container.database()
        now = self._container.clock().now()
        head = await head_position(database)
        outbox = await lag_of(database, RELAY_CHECKPOINT, head)
        OUTBOX_PENDING.set(outbox.events)
        OUTBOX_OLDEST_AGE.set(outbox.seconds(now))
        for projection in PROJECTIONS:
            lag = await lag_of(database, projection, head)
            PROJECTION_LAG_EVENTS.labels(projection).set(lag.events)
            PROJECTION_LAG_SECONDS.labels(projection).set(lag.seconds(now))

    async def _dead_letters(self) -> None:
        if self._amqp is None:
            self._amqp = await aio_pika.connect_robust(self._container.settings().rabbitmq_url)
        names = self._container.amqp_names()
        for projection in PROJECTIONS:
            queue_name = names.dead_letter_queue(names.projection_queue(projection))
            # A passive declare of a missing queue closes the channel: one channel each.
            channel = await self._amqp.channel()
            try:
                queue = await channel.declare_queue(queue_name, passive=True)
                DEAD_LETTERS.labels(queue_name).set(queue.declaration_result.message_count or 0)
            except aio_pika.exceptions.ChannelClosed:
                DEAD_LETTERS.labels(queue_name).set(0)
            finally:
                if not channel.is_closed:
                    await channel.close()

    @staticmethod
    def _cache_ratio() -> None:
        hits = REGISTRY.get_sample_value("crm_cache_lookups_total", {"result": "hit"}) or 0.0
        misses = REGISTRY.get_sample_value("crm_cache_lookups_total", {"result": "miss"}) or 0.0
        CACHE_HIT_RATIO.set(hits / (hits + misses) if hits + misses else 0.0)


async def _bounded(awaitable) -> None:
    await asyncio.wait_for(awaitable, timeout=SOURCE_TIMEOUT_SECONDS)
