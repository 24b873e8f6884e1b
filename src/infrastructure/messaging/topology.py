"""The exchanges and queues this service owns or consumes, declared idempotently."""

from collections.abc import Sequence
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue


@dataclass(frozen=True)
class Names:
    """Exchange and queue names, under an optional namespace that keeps test runs apart."""

    namespace: str = ""

    def _named(self, name: str) -> str:
        return f"{self.namespace}{name}"

    @property
    def customers_exchange(self) -> str:
        return self._named("customers")

    @property
    def dead_letter_exchange(self) -> str:
        return self._named("crm.dead_letter")

    def projection_queue(self, projection: str) -> str:
        return self._named(f"crm.projection.{projection}")

    @property
    def customer_details_queue(self) -> str:
        return self.projection_queue("customer_details")

    def dead_letter_queue(self, queue: str) -> str:
        return f"{queue}.dlq"

    def inbound_exchange(self, exchange: str) -> str:
        """`orders` or `payments`: the exchanges of the services this one listens to."""
        return self._named(exchange)

    def inbound_queue(self, exchange: str) -> str:
        return self._named(f"crm.inbound.{exchange}")


async def declare_customers_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(names.customers_exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_consumer_queue(
    channel: AbstractChannel,
    names: Names,
    queue_name: str,
    exchange: AbstractExchange,
    routing_keys: list[str],
    quorum: bool,
) -> AbstractQueue:
    """A durable queue with its own dead-letter queue, where parked messages wait for ops."""
    dead_letters = await channel.declare_exchange(names.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
    queue_type = {"x-queue-type": "quorum"} if quorum else {}
    dead_letter_queue = await channel.declare_queue(names.dead_letter_queue(queue_name), durable=True, arguments=queue_type)
    await dead_letter_queue.bind(dead_letters, routing_key=names.dead_letter_queue(queue_name))
    queue = await channel.declare_queue(
        queue_name,
        durable=True,
        arguments={
            **queue_type,
            "x-dead-letter-exchange": names.dead_letter_exchange,
            "x-dead-letter-routing-key": names.dead_letter_queue(queue_name),
        },
    )
    for routing_key in routing_keys:
        await queue.bind(exchange, routing_key=routing_key)
    return queue


# The projections fed from the `customers` exchange, each through a queue of its own.
PROJECTIONS = ("customer_details", "customer_history")


async def declare_projection_queue(channel: AbstractChannel, names: Names, projection: str, quorum: bool) -> AbstractQueue:
    exchange = await declare_customers_exchange(channel, names)
    return await declare_consumer_queue(
        channel, names, names.projection_queue(projection), exchange, routing_keys=["customer.#"], quorum=quorum
    )


async def declare_inbound_queue(
    channel: AbstractChannel, names: Names, exchange_name: str, routing_keys: Sequence[str], quorum: bool
) -> AbstractQueue:
    """This service's queue on the `orders` or `payments` exchange, bound to every routing key
    of the contract. The exchange is declared as its publisher declares it (durable topic),
    so that either side can start first."""
    exchange = await channel.declare_exchange(
        names.inbound_exchange(exchange_name), aio_pika.ExchangeType.TOPIC, durable=True
    )
    return await declare_consumer_queue(
        channel, names, names.inbound_queue(exchange_name), exchange, routing_keys=list(routing_keys), quorum=quorum
    )


async def declare_topology(channel: AbstractChannel, names: Names, quorum: bool) -> AbstractExchange:
    """Everything the relay publishes into. Declared before the first publish, so that an
    event is never published to an exchange whose queues do not exist yet (and dropped)."""
    for projection in PROJECTIONS:
        await declare_projection_queue(channel, names, projection, quorum)
    return await declare_customers_exchange(channel, names)
