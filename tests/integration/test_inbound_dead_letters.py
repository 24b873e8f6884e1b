"""Poison messages on the orders exchange are parked with their reason; the rest flows."""

import json

import pytest

from infrastructure.messaging.inbound_codec import MAX_BODY_BYTES
from tests.inbound import Publisher, envelope, order_placed, wait_until_processed

pytestmark = pytest.mark.integration


def _with(field: str, value: object) -> bytes:
    return json.dumps({**envelope("order.placed", order_placed()), field: value}).encode()


POISON = {
    "too_large": json.dumps(envelope("order.placed", order_placed(service_ids=["x" * 100] * 2700))).encode(),
    "invalid_json": b'{"event_id": "4d1c0a5e-6c0e-4a53-9d1e-2f6f3a8f0b11", ',
    "schema_mismatch": json.dumps(envelope("order.placed", order_placed(total_amount_minor="45.00"))).encode(),
    "unknown_event_type": _with("event_type", "order.teleported"),
    "unknown_schema_version": _with("schema_version", 2),
}


async def test_poison_messages_of_every_kind_are_parked_and_the_queue_keeps_flowing(workers, container):
    assert len(POISON["too_large"]) > MAX_BODY_BYTES
    names = container.amqp_names()
    good = envelope("order.placed", order_placed())
    async with Publisher(container) as publisher:
        for body in POISON.values():
            await publisher.publish_raw(body, "order.placed")
        await publisher.publish(good)
        await wait_until_processed(container, good["event_id"])

        dead_letters = await publisher.channel.declare_queue(
            names.dead_letter_queue(names.inbound_stream("orders")), passive=True
        )
        parked = {}
        for _ in POISON:
            message = await dead_letters.get(timeout=10)
            parked[message.headers["x-crm-reason-code"]] = message
            await message.ack()
    assert set(parked) == set(POISON)
    for code, message in parked.items():
        assert message.body == POISON[code]
        assert code in message.headers["x-crm-reason"]
        assert names.stream_of(message.headers["x-crm-source-queue"]) == names.inbound_stream("orders")
    assert await container.database()["events"].count_documents({"event_type": "OrderLinked"}) == 2
