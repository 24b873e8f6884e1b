"""Publishes the order and payment services' messages exactly as the contract shows them,
and waits (bounded) until the integration worker has committed them."""

import asyncio
import json
import uuid
from typing import Any

import aio_pika

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.container import Container
from infrastructure.messaging.topology import declare_inbound_stream
from tests.conftest import RABBITMQ_URL

BUSINESS = "biz_7f3a"
EXCHANGE_OF = {key: exchange for exchange, keys in ROUTING_KEYS_BY_EXCHANGE.items() for key in keys}


def envelope(event_type: str, data: dict[str, Any], business_id: str = BUSINESS, event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": "2026-11-23T10:15:00Z",
        "business_id": business_id,
        "data": data,
    }


def order_placed(order_id: str = "ord_1001", **overrides: Any) -> dict:
    return {
        "order_id": order_id,
        "placed_at": "2026-11-23T10:15:00Z",
        "booker": {"email": "ana.silva@example.com", "first_name": "Ana"},
        "attendees": [
            {"first_name": "Ana", "last_name": "Silva", "email": "ana.silva@example.com"},
            {"first_name": "Rui", "phone": "912345679"},
        ],
        "total_amount_minor": 4500,
        "currency": "EUR",
        "items_count": 2,
        "service_ids": ["svc_massage_60"],
        **overrides,
    }


def order_completed(order_id: str = "ord_1001", **overrides: Any) -> dict:
    return {
        "order_id": order_id,
        "completed_at": "2026-11-23T11:30:00Z",
        "total_amount_minor": 4500,
        "currency": "EUR",
        "items_count": 2,
        **overrides,
    }


def payment_succeeded(payment_id: str = "pay_9001", **overrides: Any) -> dict:
    return {
        "payment_id": payment_id,
        "order_id": "ord_1001",
        "payer": {"email": "ana.silva@example.com"},
        "amount_minor": 4500,
        "currency": "EUR",
        "method": "card",
        "paid_at": "2026-11-23T10:16:00Z",
        **overrides,
    }


def refund(refund_id: str, amount_minor: int, payment_id: str = "pay_9001") -> dict:
    return {
        "payment_id": payment_id,
        "refund_id": refund_id,
        "amount_minor": amount_minor,
        "currency": "EUR",
        "refunded_at": "2026-11-24T09:00:00Z",
    }


class Publisher:
    def __init__(self, container: Container, url: str = RABBITMQ_URL, declare: bool = True):
        self._container = container
        self._url = url
        self._declare = declare
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self.channel: aio_pika.abc.AbstractChannel | None = None

    async def __aenter__(self) -> "Publisher":
        self._connection = await aio_pika.connect(self._url)
        self.channel = await self._connection.channel(publisher_confirms=True)
        names = self._container.amqp_names()
        # As the contract allows: the queues may exist before the publisher (or after).
        for exchange, keys in ROUTING_KEYS_BY_EXCHANGE.items() if self._declare else ():
            partitions = self._container.settings().consumer_partitions
            await declare_inbound_stream(self.channel, names, exchange, keys, partitions, quorum=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._connection is not None
        await self._connection.close()

    async def publish(self, message: dict, routing_key: str | None = None, headers: dict | None = None) -> str:
        return await self.publish_raw(
            json.dumps(message).encode(),
            routing_key or message["event_type"],
            message_id=message["event_id"],
            headers=headers,
        )

    async def publish_raw(
        self, body: bytes, routing_key: str, message_id: str = "poison", headers: dict | None = None
    ) -> str:
        assert self.channel is not None
        exchange = await self.channel.get_exchange(
            self._container.amqp_names().inbound_exchange(EXCHANGE_OF[routing_key]), ensure=False
        )
        await exchange.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers,
            ),
            routing_key=routing_key,
        )
        return message_id


async def wait_until_processed(container: Container, *event_ids: str, seconds: float = 20.0) -> None:
    """Waits until every message is committed (a bound, not a timed assertion)."""
    collection = container.database()["processed_messages"]
    for _ in range(int(seconds / 0.05)):
        if await collection.count_documents({"_id": {"$in": list(event_ids)}}) == len(set(event_ids)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"messages {event_ids} were not processed")


async def customer_events(container: Container, event_type: str) -> list[dict]:
    return await container.database()["events"].find({"event_type": event_type}).sort("position", 1).to_list()


async def holder_of(container: Container, kind: str, value: str, business_id: str = BUSINESS) -> str | None:
    return await container.contact_key_holders().holder(business_id, kind, value)


async def next_message(
    queue: aio_pika.abc.AbstractQueue, seconds: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    """The next message of `queue`, waiting for it (`queue.get` itself does not wait)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while (message := await queue.get(fail=False)) is None:
        assert asyncio.get_running_loop().time() < deadline, f"no message on {queue.name} within {seconds}s"
        await asyncio.sleep(0.05)
    return message
