"""Helpers for tests that watch or feed the projections."""

import asyncio

import aio_pika

from application.events import RecordedEvent
from application.projections.customer_details import PROJECTION_NAME
from infrastructure.container import Container
from infrastructure.messaging.projection_messages import event_message
from infrastructure.messaging.topology import declare_relay_topology
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS
from tests.conftest import RABBITMQ_URL


async def until_projected(
    container: Container, business_id: str = "biz_1", projection: str = PROJECTION_NAME, seconds: float = 15.0
) -> None:
    """Waits until every partition of the projection has applied the business's whole log."""
    head = await container.event_store().head_position(business_id)
    for _ in range(int(seconds / 0.05)):
        if await container.checkpoints().reached(projection, business_id) >= head:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{projection} did not reach position {head} of {business_id}")


async def publish_as_relay(container: Container, events: list[RecordedEvent]) -> None:
    """Publishes recorded events, in order and signed as the relay signs them, to the
    `customers` exchange, after declaring what the relay declares."""
    settings = container.settings()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        customers, _ = await declare_relay_topology(
            channel, container.amqp_names(), PROJECTION_ROUTING_KEYS, settings.consumer_partitions, quorum=True
        )
        for recorded in events:
            await customers.publish(
                event_message(recorded, container.message_signer()), routing_key=recorded.event.routing_key
            )


async def redeliver(container: Container, recorded: RecordedEvent, times: int = 1) -> None:
    """The relay publishing an event again (as after a crash between publish and progress)."""
    await publish_as_relay(container, [recorded] * times)
