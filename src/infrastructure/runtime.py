"""Starting and stopping what needs an event loop: Beanie, RabbitMQ, the workers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from application.outbox_relay import OutboxRelay
from infrastructure.container import Container
from infrastructure.event_codec import from_message_body
from infrastructure.messaging.batch_consumer import BatchConsumer
from infrastructure.messaging.publisher import RabbitEventPublisher
from infrastructure.messaging.topology import declare_customer_details_queue, declare_topology
from infrastructure.mongo.client import init_documents
from infrastructure.mongo.new_events_signal import ChangeStreamNewEventsSignal


async def start_storage(container: Container) -> None:
    await init_documents(container.database())


async def stop_storage(container: Container) -> None:
    await container.mongo_client().close()
    await container.read_model_updates().close()
    await container.redis_client().aclose()


@asynccontextmanager
async def amqp_connection(container: Container) -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(container.settings().rabbitmq_url)
    try:
        yield connection
    finally:
        await connection.close()


async def run_outbox_relay(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings()
    async with amqp_connection(container) as connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_topology(channel, container.amqp_names(), settings.amqp_quorum_queues)
        new_events = ChangeStreamNewEventsSignal(container.database())
        relay = OutboxRelay(
            container.event_store(),
            container.checkpoints(),
            RabbitEventPublisher(channel, exchange),
            new_events,
            batch_size=settings.relay_batch_size,
            idle_sleep_seconds=settings.relay_idle_sleep_seconds,
        )
        try:
            await relay.run(stop)
        finally:
            await new_events.close()


async def run_customer_details_projector(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings()
    names = container.amqp_names()
    async with amqp_connection(container) as connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=settings.projector_prefetch)
        queue = await declare_customer_details_queue(channel, names, settings.amqp_quorum_queues)
        consumer = BatchConsumer(
            channel,
            queue,
            dead_letter_exchange=names.dead_letter_exchange,
            dead_letter_routing_key=names.dead_letter_queue(names.customer_details_queue),
            decode=from_message_body,
            handle=container.project_customer_details().execute,
            batch_size=settings.projector_batch_size,
            batch_window_seconds=settings.projector_batch_window_seconds,
            max_attempts=settings.projector_max_attempts,
        )
        await consumer.run(stop)
