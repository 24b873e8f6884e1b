"""A relay-signed event that no retry can apply is parked after its attempts, with its
reason, and the customers after it are projected."""

import aio_pika
import pytest

from domain.customer.events import CustomerProfileUpdated
from infrastructure.event_codec import to_message_body
from infrastructure.messaging.projection_messages import EVENT_KIND, KIND, SIGNATURE, STREAM
from infrastructure.messaging.topology import declare_relay_topology
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS
from tests.conftest import RABBITMQ_URL
from tests.inbound import next_message
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_an_event_that_can_never_be_applied_is_parked_and_stops_no_one(api, workers, container, settings):
    names = container.amqp_names()
    first = (await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))).json()
    [recorded] = await container.event_store().load_stream("biz_1", first["id"])
    # A change to a customer that was never registered: signed as the relay signs, so it is
    # decoded and handed to the projection, which fails on it however often it tries.
    impossible = recorded.model_copy(
        update={
            "event_id": "evt_impossible",
            "stream_id": "cus_never_registered",
            "event": CustomerProfileUpdated(occurred_at=recorded.event.occurred_at, changes={"first_name": "X"}),
        }
    )
    body = to_message_body(impossible)
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        customers, _ = await declare_relay_topology(
            channel, names, PROJECTION_ROUTING_KEYS, settings.consumer_partitions, quorum=True
        )
        headers = {KIND: EVENT_KIND, STREAM: "cus_never_registered"}
        headers[SIGNATURE] = container.message_signer().sign(EVENT_KIND, body)
        await customers.publish(
            aio_pika.Message(body, message_id="evt_impossible", headers=headers), routing_key="customer.profile_updated"
        )

        later = (await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))).json()
        read = await api.get(f"{CUSTOMERS}/{later['id']}?min_version=1", headers=bearer(settings))
        assert read.status_code == 200, read.text

        stream = names.projection_stream("customer_details")
        dead_letters = await channel.declare_queue(names.dead_letter_queue(stream), passive=True)
        parked = await next_message(dead_letters)
        await parked.ack()
    assert parked.body == body
    assert parked.headers["x-crm-reason-code"] == "failed"
    assert parked.headers["x-crm-attempts"] == settings.projector_max_attempts
    assert parked.headers["x-crm-reason"]
