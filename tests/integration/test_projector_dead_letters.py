"""Messages a projector cannot apply are parked with their reason; forged ones change nothing."""

import json

import aio_pika
import pytest

from infrastructure.event_codec import to_message_body
from infrastructure.messaging.projection_messages import EVENT_KIND, KIND, SIGNATURE, STREAM
from infrastructure.messaging.topology import declare_relay_topology
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS
from tests.conftest import RABBITMQ_URL
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def test_poison_and_forged_messages_are_parked_with_their_reason_and_the_queue_keeps_flowing(
    api, workers, container, settings
):
    names = container.amqp_names()
    victim = (await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))).json()
    assert (await api.get(f"{CUSTOMERS}/{victim['id']}?min_version=1", headers=bearer(settings))).status_code == 200
    [recorded] = await container.event_store().load_stream("biz_1", victim["id"])
    # A well-formed event for the victim, at the next version, but not signed by the relay.
    forged = recorded.model_copy(
        update={"version": 2, "event": recorded.event.model_copy(update={"first_name": "Mallory"})}
    )
    signer = container.message_signer()
    poison = {
        "unsigned garbage": (b"{not json", {}, "bad_signature"),
        "forged event": (to_message_body(forged), {}, "bad_signature"),
        "wrong signature": (to_message_body(forged), {SIGNATURE: "0" * 64}, "bad_signature"),
        "signed garbage": (b"[1, 2]", {SIGNATURE: signer.sign(EVENT_KIND, b"[1, 2]")}, "undecodable"),
        "signed unknown type": (
            json.dumps({"event_type": "customer.unheard_of"}).encode(),
            {SIGNATURE: signer.sign(EVENT_KIND, json.dumps({"event_type": "customer.unheard_of"}).encode())},
            "undecodable",
        ),
    }
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        customers, _ = await declare_relay_topology(
            channel, names, PROJECTION_ROUTING_KEYS, settings.consumer_partitions, quorum=True
        )
        for body, headers, _ in poison.values():
            await customers.publish(
                aio_pika.Message(
                    body, message_id="poison", headers={KIND: EVENT_KIND, STREAM: victim["id"], **headers}
                ),
                routing_key="customer.registered",
            )

        created = await api.post(CUSTOMERS, json={"first_name": "Rui"}, headers=bearer(settings))
        read = await api.get(f"{CUSTOMERS}/{created.json()['id']}?min_version=1", headers=bearer(settings))
        assert read.status_code == 200

        stream = names.projection_stream("customer_details")
        dead_letters = await channel.declare_queue(names.dead_letter_queue(stream), passive=True)
        parked = []
        for _ in poison:
            message = await dead_letters.get(timeout=5)
            parked.append(message)
            await message.ack()
    assert sorted(message.body for message in parked) == sorted(body for body, _, _ in poison.values())
    codes = sorted(message.headers["x-crm-reason-code"] for message in parked)
    assert codes == sorted(code for _, _, code in poison.values())
    for message in parked:
        assert names.stream_of(message.headers["x-crm-source-queue"]) == stream
        assert message.headers["x-crm-first-failure-at"]
    read = await api.get(f"{CUSTOMERS}/{victim['id']}", headers=bearer(settings))
    assert (read.json()["first_name"], read.json()["version"]) == ("Ana", 1)
