"""Removes the queues, exchanges and Redis keys of the namespace the CRM_* settings name
(`CRM_AMQP_NAMESPACE`, `CRM_REDIS_KEY_PREFIX`): what a throw-away stack (make fuzz) leaves.
Left behind, each run's quorum queues stay on the broker for good and slow it down."""

import asyncio

import aio_pika
import redis.asyncio as redis

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.messaging.topology import Names, delete_topology
from infrastructure.projection_registry import PROJECTIONS
from infrastructure.settings import Settings


async def remove(settings: Settings) -> None:
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
    keys = [key async for key in cache.scan_iter(match=f"{settings.redis_key_prefix}*", count=1000)]
    if keys:
        await cache.delete(*keys)
    await cache.aclose()


if __name__ == "__main__":
    asyncio.run(remove(Settings()))
