"""Commands over HTTP and order events over AMQP while faults happen. Only what the
service acknowledged is recorded: a 2xx, or a publisher confirm."""

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aio_pika
import httpx
import jwt

from tests.chaos.stack import SECRET
from tests.inbound import envelope, order_completed, order_placed

BUSINESS = "biz_chaos"


@dataclass
class Acknowledged:
    registered: dict[str, str] = field(default_factory=dict)  # customer id -> email
    attributes: dict[str, set[str]] = field(default_factory=dict)  # customer id -> keys set by 2xx PATCHes
    notes: dict[str, list[str]] = field(default_factory=dict)  # customer id -> contents of 2xx notes
    orders: dict[str, str] = field(default_factory=dict)  # order id -> booker email (placed and completed)
    message_ids: list[str] = field(default_factory=list)
    # The newest X-Position of an acknowledged registration.
    newest_position: int = 0
    refused: Counter = field(default_factory=Counter)  # what did not get a 2xx, by status or error

    def total(self) -> int:
        return len(self.registered) + sum(map(len, self.attributes.values())) + len(self.orders)


def token() -> str:
    claims = {"sub": "chaos", "business_ids": [BUSINESS], "roles": ["admin"], "exp": int(time.time()) + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


class Load:
    def __init__(self, base_url: str | list[str], rabbit_url: str, clients: int = 4):
        self.acknowledged = Acknowledged()
        # Several API replicas: each request goes to one of them, at random.
        self._base_urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self._rabbit_url = rabbit_url
        self._clients = clients

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._http_client(stop) for _ in range(self._clients)), self._publisher(stop))

    async def _http_client(self, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {token()}"}
        async with httpx.AsyncClient(headers=headers, timeout=10) as client:
            while not stop.is_set():
                path = f"{random.choice(self._base_urls)}/api/v1/businesses/{BUSINESS}/customers"
                customers = list(self.acknowledged.registered)
                action = "register" if len(customers) < 5 else random.choice(["register", "patch", "patch", "note"])
                try:
                    if action == "register":
                        email = f"c{uuid.uuid4().hex[:12]}@example.com"
                        response = await client.post(path, json={"first_name": "Chaos", "email": email})
                        if response.status_code == 201:
                            self.acknowledged.registered[response.json()["id"]] = email
                            self.acknowledged.newest_position = max(
                                self.acknowledged.newest_position, int(response.headers["x-position"])
                            )
                    elif action == "patch":
                        customer_id, key = random.choice(customers), f"k{uuid.uuid4().hex[:10]}"
                        response = await client.patch(f"{path}/{customer_id}", json={"attributes": {key: 1}})
                        if response.status_code == 200:
                            self.acknowledged.attributes.setdefault(customer_id, set()).add(key)
                    else:
                        customer_id, content = random.choice(customers), f"note {uuid.uuid4().hex}"
                        response = await client.post(
                            f"{path}/{customer_id}/notes", json={"type": "personal", "content": content}
                        )
                        if response.status_code == 201:
                            self.acknowledged.notes.setdefault(customer_id, []).append(content)
                    if response.status_code >= 300:
                        self.acknowledged.refused[response.status_code] += 1
                except httpx.HTTPError as error:
                    self.acknowledged.refused[type(error).__name__] += 1
                    await asyncio.sleep(0.2)

    async def _publisher(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                connection = await aio_pika.connect(self._rabbit_url, timeout=3)
                async with connection:
                    # mandatory + on_return_raises: a message no queue took is not counted as sent.
                    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                    orders = await channel.declare_exchange("orders", aio_pika.ExchangeType.TOPIC, durable=True)
                    while not stop.is_set():
                        await self._publish_order(orders)
                        await asyncio.sleep(0.05)
            except Exception as error:  # noqa: BLE001 - whatever the broker does, only confirmed orders count
                self.acknowledged.refused[f"amqp {type(error).__name__}"] += 1
                await asyncio.sleep(0.5)

    async def _publish_order(self, orders: aio_pika.abc.AbstractExchange) -> None:
        registered = list(self.acknowledged.registered.values())
        email = (
            random.choice(registered)
            if registered and random.random() < 0.7
            else f"o{uuid.uuid4().hex[:12]}@example.com"
        )
        order_id = f"ord_{uuid.uuid4().hex[:12]}"
        messages = [
            envelope(
                "order.placed", order_placed(order_id, booker={"email": email}, attendees=[{"email": email}]), BUSINESS
            ),
            envelope("order.completed", order_completed(order_id), BUSINESS),
        ]
        for message in messages:
            await orders.publish(
                aio_pika.Message(
                    json.dumps(message).encode(),
                    message_id=message["event_id"],
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=message["event_type"],
                mandatory=True,
            )
            self.acknowledged.message_ids.append(message["event_id"])
        self.acknowledged.orders[order_id] = email
