"""Erasing a customer erases the customers merged into it: a merged source keeps the
person's name, email and phone under its own data key otherwise."""

import json

import aio_pika
import pytest

from infrastructure.messaging.projection_messages import STREAM
from tests.conftest import RABBITMQ_URL
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"
TRACES = ["zephyrine", "quattlebaum", "zq@example.org", "913777888", "old.zq@example.org"]


async def register(api, settings, **fields) -> str:
    created = await api.post(CUSTOMERS, json=fields, headers=bearer(settings))
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def merge(api, settings, target: str, source: str) -> None:
    merged = await api.post(
        f"{CUSTOMERS}/{target}/merge",
        json={"source_customer_id": source},
        headers=bearer(settings, roles=("manager",)),
    )
    assert merged.status_code == 200, merged.text


async def test_erasure_reaches_every_customer_merged_into_the_erased_one(api, workers, settings, container):
    target = await register(api, settings, first_name="Zephyrine", email="zq@example.org")
    source = await register(api, settings, last_name="Quattlebaum", phone="+351 913 777 888")
    older = await register(api, settings, first_name="Zephyrine", email="old.zq@example.org")
    await merge(api, settings, source, older)  # a chain: older -> source -> target
    await merge(api, settings, target, source)

    erased = await api.post(f"{CUSTOMERS}/{target}/erase", headers=bearer(settings, roles=("admin",)))
    assert erased.status_code == 200, erased.text
    await until_projected(container)

    for customer_id in (target, source, older):
        read = (await api.get(f"{CUSTOMERS}/{customer_id}", headers=bearer(settings))).json()
        assert (read["status"], read["first_name"], read["last_name"], read["email"], read["phone"]) == (
            "erased",
            None,
            None,
            None,
            None,
        ), customer_id
    # Every data key is gone, so the sealed events of all three can't be read any more.
    assert await container.database()["customer_keys"].count_documents({"_id": {"$in": [target, source, older]}}) == 0
    database = container.database()
    for name in await database.list_collection_names():
        async for document in database[name].find():
            text = str(document).casefold()
            assert not [trace for trace in TRACES if trace in text], (name, document)


async def test_erasure_drops_the_parked_messages_that_name_the_person(api, workers, settings, container):
    target = await register(api, settings, first_name="Zephyrine", email="zq@example.org")
    source = await register(api, settings, last_name="Quattlebaum", phone="+351 913 777 888")
    await merge(api, settings, target, source)
    names = container.amqp_names()
    projection_dlq = names.dead_letter_queue(names.projection_stream("customer_details"))
    orders_dlq = names.dead_letter_queue(names.inbound_stream("orders"))
    payments_dlq = names.dead_letter_queue(names.inbound_stream("payments"))
    parked = [
        (projection_dlq, json.dumps({"stream_id": source, "last_name": "Quattlebaum"}), {STREAM: source}),
        (orders_dlq, json.dumps({"booker": {"email": "ZQ@Example.org"}, "total_amount_minor": "x"}), {}),
        (payments_dlq, json.dumps({"payer": {"phone": "913 777 888"}, "amount_minor": None}), {}),
    ]
    unrelated = json.dumps({"booker": {"email": "someone@else.org", "phone": "+351 912 000 111"}})
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(names.dead_letter_exchange, ensure=False)
        for queue, body, headers in [*parked, (orders_dlq, unrelated, {})]:
            await exchange.publish(aio_pika.Message(body.encode(), headers=headers), routing_key=queue)

        erased = await api.post(f"{CUSTOMERS}/{target}/erase", headers=bearer(settings, roles=("admin",)))
        assert erased.status_code == 200, erased.text

        left = []
        for queue_name in (projection_dlq, orders_dlq, payments_dlq):
            queue = await channel.declare_queue(queue_name, passive=True)
            while (message := await queue.get(fail=False)) is not None:
                left.append(message.body.decode())
    assert left == [unrelated]
