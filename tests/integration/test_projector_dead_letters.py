import json

import aio_pika
import pytest

from infrastructure.messaging.topology import declare_topology
from tests.conftest import RABBITMQ_URL
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"

POISON = [
    (b"{not json", "undecodable"),
    (b"[1, 2]", "undecodable"),
    (json.dumps({"event_type": "customer.unheard_of"}).encode(), "undecodable"),
    (json.dumps({"event_type": "customer.registered", "data": {}}).encode(), "undecodable"),
]


async def test_poison_messages_are_parked_with_their_reason_and_the_queue_keeps_flowing(api, workers, container, settings):
    names = container.amqp_names()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_topology(channel, names, quorum=True)
        for body, _ in POISON:
            await exchange.publish(aio_pika.Message(body, message_id="poison"), routing_key="customer.registered")

        created = await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))
        read = await api.get(f"{CUSTOMERS}/{created.json()['id']}?min_version=1", headers=bearer(settings))
        assert read.status_code == 200

        dead_letters = await channel.declare_queue(names.dead_letter_queue(names.customer_details_queue), passive=True)
        parked = []
        for _ in POISON:
            message = await dead_letters.get(timeout=5)
            parked.append(message)
            await message.ack()
        assert sorted(message.body for message in parked) == sorted(body for body, _ in POISON)
        for message in parked:
            assert message.headers["x-crm-reason"].startswith("undecodable")
            assert message.headers["x-crm-source-queue"] == names.customer_details_queue
            assert message.headers["x-crm-first-failure-at"]
