"""Removes what a throw-away deployment (a test, a `make fuzz` stack) leaves on the shared
servers: its namespace's queues and exchanges, and its Redis keys. Left behind, quorum
queues stay on the broker for good, and hundreds of them slow it to a standstill."""

import aio_pika
import redis.asyncio as redis

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.messaging.topology import Names, delete_topology
from infrastructure.projection_registry import PROJECTIONS
from infrastructure.settings import Settings


async def remove_namespace(settings: Settings) -> None:
    connection = await aio_pika.connect(settings.rabbitmq_url, timeout=10)
    async with connection:
        await delete_topology(
            await connection.channel(),
            Names(settings.amqp_namespace),
            list(PROJECTIONS),
            list(ROUTING_KEYS_BY_EXCHANGE),
            settings.consumer_partitions,
        )
    cache = redis.from_url(settings.redis_url)
    try:
        keys = [key async for key in cache.scan_iter(match=f"{settings.redis_key_prefix}*", count=1000)]
        if keys:
            await cache.delete(*keys)
    finally:
        await cache.aclose()
