"""A later version delivered before the one it follows is not applied out of order."""

import asyncio

import aio_pika
import pytest

from application.commands.context import CommandContext
from application.commands.update_customer import UpdateCustomer
from application.commands.register_customer import RegisterCustomer
from domain.customer.aggregate import ProfileInput
from infrastructure.event_codec import to_message_body
from infrastructure.messaging.topology import declare_topology
from infrastructure.runtime import run_projectors
from tests.conftest import RABBITMQ_URL

pytestmark = pytest.mark.integration
CONTEXT = CommandContext(actor="user_1", correlation_id="c", causation_id="k")


async def test_version_two_before_version_one_fetches_the_gap_and_ignores_the_late_one(container):
    # Two events committed while no relay runs: nothing is published by itself.
    created = await container.register_customer().execute(
        RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT
    )
    customer_id = created.customer.id
    await container.update_customer().execute(
        UpdateCustomer(business_id="biz_1", customer_id=customer_id, changes={"last_name": "Silva"}), CONTEXT
    )
    first, second = await container.event_store().load_stream(customer_id)

    stop = asyncio.Event()
    projector = asyncio.create_task(run_projectors(container, stop))
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_topology(channel, container.amqp_names(), quorum=True)
        for recorded in (second, first, second):  # out of order, then a duplicate
            await exchange.publish(
                aio_pika.Message(to_message_body(recorded), message_id=recorded.event_id),
                routing_key=recorded.event.routing_key,
            )
        views = container.customer_views()
        for _ in range(200):
            view = await views.get("biz_1", customer_id)
            if view is not None and view.version == 2:
                break
            await asyncio.sleep(0.02)
        # Let the late version 1 and the duplicate be consumed too.
        queue = container.amqp_names().customer_details_queue
        for _ in range(200):
            declared = await channel.declare_queue(queue, passive=True)
            if declared.declaration_result.message_count == 0:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(projector, timeout=10)
        await connection.close()
    view = await container.customer_views().get("biz_1", customer_id)
    assert (view.version, view.first_name, view.last_name) == (2, "Ana", "Silva")
    history = await container.customer_history().page("biz_1", customer_id, None, 10)
    assert [entry.version for entry in history] == [2, 1]
