"""The gauges computed when `/metrics` is scraped: outbox, projection lag, dead letters,
cache hit ratio. Each source is asked within a bound, so a scrape never hangs on a
server that is away (its gauges then keep their last value). They are computed at most
once every `MAX_AGE_SECONDS`, however often or concurrently `/metrics` is scraped, and only
for a scraper that shows `CRM_METRICS_TOKEN`."""

import asyncio
import hmac
import time

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from infrastructure.container import Container
from infrastructure.observability.metrics import (
    CACHE_HIT_RATIO,
    DEAD_LETTERS,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    PROJECTION_LAG_EVENTS,
    PROJECTION_LAG_SECONDS,
)
from infrastructure.operations.log_lag import projection_lag, relay_lag
from infrastructure.projection_registry import PROJECTIONS

SOURCE_TIMEOUT_SECONDS = 1.0
MAX_AGE_SECONDS = 5.0


class ScrapeGauges:
    def __init__(self, container: Container):
        self._container = container
        self._amqp: AbstractRobustConnection | None = None
        self._refreshed_at = float("-inf")
        self._refreshing = asyncio.Lock()

    def served(self) -> bool:
        """The API serves `/metrics` only when a token is configured."""
        return bool(self._container.settings().metrics_token)

    def authorizes(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expected = self._container.settings().metrics_token
        return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected.encode())

    async def refresh(self) -> None:
        self._cache_ratio()  # from this process's counters: no query
        async with self._refreshing:  # concurrent scrapes share one refresh
            if time.monotonic() - self._refreshed_at < MAX_AGE_SECONDS:
                return
            await asyncio.gather(_bounded(self._from_mongodb()), _bounded(self._dead_letters()), return_exceptions=True)
            self._refreshed_at = time.monotonic()

    async def close(self) -> None:
        if self._amqp is not None:
            await self._amqp.close()

    async def _from_mongodb(self) -> None:
        database = self._container.database()
        now = self._container.clock().now()
        outbox = await relay_lag(database)
        OUTBOX_PENDING.set(outbox.events)
        OUTBOX_OLDEST_AGE.set(outbox.seconds(now))
        for projection in PROJECTIONS:
            lag = await projection_lag(database, self._container.checkpoints(), projection)
            PROJECTION_LAG_EVENTS.labels(projection).set(lag.events)
            PROJECTION_LAG_SECONDS.labels(projection).set(lag.seconds(now))

    async def _dead_letters(self) -> None:
        if self._amqp is None:
            self._amqp = await aio_pika.connect_robust(self._container.settings().rabbitmq_url)
        names = self._container.amqp_names()
        for projection in PROJECTIONS:
            queue_name = names.dead_letter_queue(names.projection_stream(projection))
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
