"""The exchanges and queues this service owns or consumes, declared idempotently.

Every stream of messages this service consumes (a projection's events, an inbound
exchange's messages) is split into `partitions` queues by a consistent-hash exchange
(RabbitMQ's `rabbitmq_consistent_hash_exchange` plugin): a projection hashes the
customer (`x-crm-stream` header), so one customer's events always reach the same
queue in order; an inbound stream hashes the message id. Each partition queue is a
quorum queue with single active consumer: however many replicas consume it, one at a
time gets its messages, in order, and a standby takes over the moment it goes. The
partitions of a stream share one dead-letter queue.

    customers (topic) ──customer.#, segment.#──> crm.projection.<name> (x-consistent-hash) ──> crm.projection.<name>.<k>
    crm.watermarks (fanout) ─────────────────────────────────────────────────────────> crm.projection.<name>.<k>
    orders (topic) ──order.*──> crm.inbound.orders (x-consistent-hash) ──> crm.inbound.orders.<k>
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

CONSISTENT_HASH = "x-consistent-hash"


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
    def watermarks_exchange(self) -> str:
        return self._named("crm.watermarks")

    @property
    def dead_letter_exchange(self) -> str:
        return self._named("crm.dead_letter")

    def projection_stream(self, projection: str) -> str:
        return self._named(f"crm.projection.{projection}")

    def inbound_exchange(self, exchange: str) -> str:
        """`orders` or `payments`: the exchanges of the services this one listens to."""
        return self._named(exchange)

    def inbound_stream(self, exchange: str) -> str:
        return self._named(f"crm.inbound.{exchange}")

    @staticmethod
    def partition_queue(stream: str, partition: int) -> str:
        return f"{stream}.{partition}"

    @staticmethod
    def dead_letter_queue(stream: str) -> str:
        return f"{stream}.dlq"

    @staticmethod
    def stream_of(queue: str) -> str:
        """The stream a partition queue (`<stream>.<k>`) or dead-letter queue belongs to."""
        return queue.rsplit(".", 1)[0]


async def declare_customers_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(names.customers_exchange, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_watermarks_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(names.watermarks_exchange, aio_pika.ExchangeType.FANOUT, durable=True)


async def declare_partitioned_stream(
    channel: AbstractChannel,
    names: Names,
    stream: str,
    source: AbstractExchange,
    routing_keys: Sequence[str],
    hash_on: dict[str, str],
    partitions: int,
    quorum: bool,
    watermarks: AbstractExchange | None = None,
) -> list[str]:
    """The stream's consistent-hash exchange bound to `source`, its partition queues and its
    dead-letter queue; returns the partition queue names, partition 0 first."""
    dead_letters = await channel.declare_exchange(
        names.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    queue_type = {"x-queue-type": "quorum"} if quorum else {}
    dead_letter_queue = await channel.declare_queue(names.dead_letter_queue(stream), durable=True, arguments=queue_type)
    await dead_letter_queue.bind(dead_letters, routing_key=names.dead_letter_queue(stream))
    hashing = await channel.declare_exchange(stream, CONSISTENT_HASH, durable=True, arguments=hash_on)
    for routing_key in routing_keys:
        await hashing.bind(source, routing_key=routing_key)
    queues = []
    for partition in range(partitions):
        queue = await channel.declare_queue(
            names.partition_queue(stream, partition),
            durable=True,
            arguments={
                **queue_type,
                "x-single-active-consumer": True,
                "x-dead-letter-exchange": names.dead_letter_exchange,
                "x-dead-letter-routing-key": names.dead_letter_queue(stream),
            },
        )
        await queue.bind(hashing, routing_key="1")  # the queue's weight on the hash ring
        if watermarks is not None:
            await queue.bind(watermarks)
        queues.append(queue.name)
    return queues


async def declare_projection_stream(
    channel: AbstractChannel,
    names: Names,
    projection: str,
    routing_keys: Sequence[str],
    partitions: int,
    quorum: bool,
) -> list[str]:
    return await declare_partitioned_stream(
        channel,
        names,
        names.projection_stream(projection),
        await declare_customers_exchange(channel, names),
        routing_keys=routing_keys,
        hash_on={"hash-header": "x-crm-stream"},
        partitions=partitions,
        quorum=quorum,
        watermarks=await declare_watermarks_exchange(channel, names),
    )


async def declare_inbound_stream(
    channel: AbstractChannel,
    names: Names,
    exchange_name: str,
    routing_keys: Sequence[str],
    partitions: int,
    quorum: bool,
) -> list[str]:
    """This service's queues on the `orders` or `payments` exchange, bound to every routing
    key of the contract. The exchange is declared as its publisher declares it (durable
    topic), so that either side can start first."""
    source = await channel.declare_exchange(
        names.inbound_exchange(exchange_name), aio_pika.ExchangeType.TOPIC, durable=True
    )
    return await declare_partitioned_stream(
        channel,
        names,
        names.inbound_stream(exchange_name),
        source,
        routing_keys,
        hash_on={"hash-property": "message_id"},
        partitions=partitions,
        quorum=quorum,
    )


async def declare_relay_topology(
    channel: AbstractChannel, names: Names, projections: Mapping[str, Sequence[str]], partitions: int, quorum: bool
) -> tuple[AbstractExchange, AbstractExchange]:
    """Everything the relay publishes into, declared before its first publish, so that an
    event is never published to an exchange whose queues do not exist yet (and dropped).
    `projections` gives each projection's routing keys. Returns the `customers` and
    watermarks exchanges."""
    for projection, routing_keys in projections.items():
        await declare_projection_stream(channel, names, projection, routing_keys, partitions, quorum)
    return await declare_customers_exchange(channel, names), await declare_watermarks_exchange(channel, names)


def stream_names(names: Names, projections: Sequence[str], inbound: Sequence[str]) -> list[str]:
    """Every partitioned stream of a namespace: one per projection and per inbound exchange."""
    return [names.projection_stream(projection) for projection in projections] + [
        names.inbound_stream(exchange) for exchange in inbound
    ]


def queue_names(names: Names, projections: Sequence[str], inbound: Sequence[str], partitions: int) -> list[str]:
    """Every queue of a namespace: each stream's partitions and its dead-letter queue."""
    return [
        queue
        for stream in stream_names(names, projections, inbound)
        for queue in [
            *(names.partition_queue(stream, partition) for partition in range(partitions)),
            names.dead_letter_queue(stream),
        ]
    ]


async def delete_topology(
    channel: AbstractChannel, names: Names, projections: Sequence[str], inbound: Sequence[str], partitions: int
) -> None:
    """Deletes every queue and exchange of a namespace (tests and benchmarks clean up with it)."""
    for queue in queue_names(names, projections, inbound, partitions):
        await channel.queue_delete(queue)
    exchanges = [*stream_names(names, projections, inbound), names.customers_exchange, names.dead_letter_exchange]
    exchanges += [names.watermarks_exchange, *(names.inbound_exchange(exchange) for exchange in inbound)]
    for exchange in exchanges:
        await channel.exchange_delete(exchange)
