"""Starting and stopping what needs an event loop: Beanie, RabbitMQ, the workers."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection

from application.events import RecordedEvent
from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from application.outbox_relay import OutboxRelay
from application.projections import customer_details, customer_history
from infrastructure.container import Container
from infrastructure.event_codec import from_message_body
from infrastructure.messaging.batch_consumer import BatchConsumer
from infrastructure.messaging.inbound_codec import decode_inbound
from infrastructure.messaging.publisher import RabbitEventPublisher
from infrastructure.messaging.topology import declare_inbound_queue, declare_projection_queue, declare_topology
from infrastructure.mongo.client import init_documents
from infrastructure.mongo.new_events_signal import ChangeStreamNewEventsSignal
from infrastructure.operations.projection_activity import MonitoredProjection

T = TypeVar("T")
log = logging.getLogger(__name__)


log = logging.getLogger(__name__)


async def start_storage(container: Container) -> None:
    await init_documents(container.database())


async def stop_storage(container: Container) -> None:
    await container.mongo_client().close()
    await container.read_model_updates().close()
    await container.redis_client().aclose()


@asynccontextmanager
async def amqp_connection(container: Container) -> AsyncIterator[AbstractRobustConnection]:
    # A quick reconnect: a broker restart, or a quorum queue whose consume races its own
    # declaration (RabbitMQ closes the connection with 541 then), costs well under a second.
    connection = await aio_pika.connect_robust(container.settings().rabbitmq_url, reconnect_interval=0.5)
    try:
        yield connection
    finally:
        await connection.close()


async def restarting(name: str, stop: asyncio.Event, run: Callable[[], Awaitable[None]]) -> None:
    """Runs a worker loop until `stop`, starting it again (with backoff) whenever it fails.

    A broker restart, a channel closed by the broker (RabbitMQ 3.10 can refuse a consume
    right after declaring a quorum queue) or a database away must not end a worker."""
    failures = 0
    while not stop.is_set():
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            log.exception("%s failed; starting it again (failure %d)", name, failures)
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(0.2 * 2 ** min(failures, 5), 5.0))
            except TimeoutError:
                pass


async def run_outbox_relay(container: Container, stop: asyncio.Event) -> None:
    await restarting("outbox relay", stop, lambda: _run_outbox_relay(container, stop))


async def _run_outbox_relay(container: Container, stop: asyncio.Event) -> None:
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


async def run_projectors(container: Container, stop: asyncio.Event) -> None:
    """Every projection, each consuming its own queue, in one process."""
    handlers = {
        customer_details.PROJECTION_NAME: container.project_customer_details().execute,
        customer_history.PROJECTION_NAME: container.project_customer_history().execute,
    }
    versions = {
        customer_details.PROJECTION_NAME: customer_details.PROJECTION_VERSION,
        customer_history.PROJECTION_NAME: customer_history.PROJECTION_VERSION,
    }
    for projection, version in versions.items():
        # A read model this code starts from nothing is built by this code's version.
        await container.checkpoints().claim_version(projection, version)
    handlers = {
        projection: MonitoredProjection(container.database(), container.clock(), projection, handle)
        for projection, handle in handlers.items()
    }
    await asyncio.gather(
        *(run_projection(container, stop, projection, handle) for projection, handle in handlers.items())
    )


async def run_projection(
    container: Container, stop: asyncio.Event, projection: str, handle: Callable[[Sequence[RecordedEvent]], Awaitable[object]]
) -> None:
    settings = container.settings()
    names = container.amqp_names()
    await consume_queue(
        container,
        stop,
        lambda channel: declare_projection_queue(channel, names, projection, settings.amqp_quorum_queues),
        decode=from_message_body,
        handle=handle,
        batch_size=settings.projector_batch_size,
        prefetch=settings.projector_prefetch,
        batch_window_seconds=settings.projector_batch_window_seconds,
    )


async def run_integration(container: Container, stop: asyncio.Event) -> None:
    """Consumes the order and payment services' messages, each exchange from its own queue."""
    settings = container.settings()
    names = container.amqp_names()
    handle = container.process_inbound_messages().execute

    def declare(exchange: str, routing_keys: Sequence[str]) -> Callable[[AbstractChannel], Awaitable[AbstractQueue]]:
        return lambda channel: declare_inbound_queue(
            channel, names, exchange, routing_keys, settings.amqp_quorum_queues
        )

    await asyncio.gather(
        *(
            consume_queue(
                container,
                stop,
                declare(exchange, routing_keys),
                decode=decode_inbound,
                handle=handle,
                batch_size=settings.integration_batch_size,
                prefetch=settings.integration_prefetch,
                batch_window_seconds=settings.integration_batch_window_seconds,
            )
            for exchange, routing_keys in ROUTING_KEYS_BY_EXCHANGE.items()
        )
    )


async def consume_queue(
    container: Container,
    stop: asyncio.Event,
    declare: Callable[[AbstractChannel], Awaitable[AbstractQueue]],
    decode: Callable[[bytes], T],
    handle: Callable[[Sequence[T]], Awaitable[object]],
    batch_size: int,
    prefetch: int,
    batch_window_seconds: float,
) -> None:
    settings = container.settings()
    names = container.amqp_names()

    async def consume() -> None:
        async with amqp_connection(container) as connection:
            channel = await connection.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=prefetch)
            queue = await declare(channel)
            consumer = BatchConsumer(
                channel,
                queue,
                dead_letter_exchange=names.dead_letter_exchange,
                dead_letter_routing_key=names.dead_letter_queue(queue.name),
                decode=decode,
                handle=handle,
                batch_size=batch_size,
                batch_window_seconds=batch_window_seconds,
                max_attempts=settings.projector_max_attempts,
            )
            await consumer.run(stop)

    # The robust connection recovers a running consumer by itself, but not one that failed
    # while starting (a quorum queue can refuse a consume that races its declaration).
    await restarting("consumer", stop, consume)
