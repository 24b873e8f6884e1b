"""Starting and stopping what needs an event loop: Beanie, RabbitMQ, the workers.

Every worker can run as several replicas (processes, machines): the relay's replicas
share the log partitions through leases, and each projection's and the integration
worker's replicas share their partition queues (docs/scaling.md).
"""

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from application.outbox_relay import OutboxRelay
from application.projections import customer_details
from application.projections.partition_batches import ProjectionPartition
from application.projections.shared_apply import SharedApply
from application.relay_worker import RelayWorker
from application.stopping import pause
from infrastructure.cancellation import asked_to_stop
from infrastructure.container import Container
from infrastructure.messaging.batch_consumer import ARRIVAL_GAP_SECONDS, BatchConsumer
from infrastructure.messaging.failures import AMQP_SETUP_SECONDS
from infrastructure.messaging.inbound_codec import decode_inbound
from infrastructure.messaging.partitioned_consumer import PartitionedConsumer
from infrastructure.messaging.projection_messages import ProjectionMessageDecoder
from infrastructure.messaging.publisher import RabbitEventPublisher
from infrastructure.messaging.topology import declare_inbound_stream, declare_projection_stream, declare_relay_topology
from infrastructure.mongo.client import init_documents
from infrastructure.mongo.segment_counting import SegmentCounting
from infrastructure.operations.projection_activity import MonitoredProjection
from infrastructure.operations.projections import retired_generations
from infrastructure.projection_registry import PROJECTIONS, ProjectionSpec
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS

T = TypeVar("T")
log = structlog.get_logger(__name__)


def member_id() -> str:
    """This process, as other replicas see it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def start_storage(container: Container) -> None:
    await init_documents(container.database())


async def stop_storage(container: Container) -> None:
    await container.access_log().close()
    await container.mongo_client().close()
    await container.read_model_updates().close()
    await container.redis_client().aclose()


@asynccontextmanager
async def amqp_connection(container: Container) -> AsyncIterator[AbstractRobustConnection]:
    # A quick reconnect: a broker restart, or a quorum queue whose consume races its own
    # declaration (RabbitMQ closes the connection with 541 then), costs well under a second.
    connection = await aio_pika.connect_robust(container.settings().rabbitmq_url, reconnect_interval=0.5)
    try:
        yield connection
    finally:
        await connection.close()


async def run_together(*loops: Coroutine[Any, Any, object]) -> None:
    """Runs worker loops side by side until all end; one that fails cancels the others.

    With `asyncio.gather`, the others would run on, unsupervised, after their caller had
    failed: a test's leftover consumers once logged a failure every 0.4 s each against a
    closed client, and starved the rest of the run."""
    async with asyncio.TaskGroup() as group:
        for loop in loops:
            group.create_task(_failing_if_cancelled_from_within(loop))


async def _failing_if_cancelled_from_within(loop: Coroutine[Any, Any, object]) -> None:
    # A task group forgets a child that ends cancelled: one nobody asked to stop (see
    # `cancellation`) fails the group instead.
    try:
        await loop
    except asyncio.CancelledError:
        if asked_to_stop():
            raise
        raise RuntimeError("a worker loop was cancelled from within") from None


async def restarting(name: str, stop: asyncio.Event, run: Callable[[], Awaitable[None]]) -> None:
    """Runs a worker loop until `stop`, starting it again (with backoff) whenever it fails.

    A broker restart, a channel closed by the broker (RabbitMQ 3.10 can refuse a consume
    right after declaring a quorum queue) or a database away must not end a worker."""
    failures = 0
    while not stop.is_set():
        try:
            await run()
            return
        except asyncio.CancelledError:
            if asked_to_stop():
                raise
            # Not asked for: a closed connection's future (see `cancellation`).
            failures += 1
            log.warning("worker cancelled from within; starting it again", worker=name, failure=failures)
        except Exception:
            failures += 1
            log.exception("worker failed; starting it again", worker=name, failure=failures)
        await pause(stop, min(0.2 * 2 ** min(failures, 5), 5.0))


async def run_outbox_relay(container: Container, stop: asyncio.Event) -> None:
    await restarting("outbox relay", stop, lambda: _run_outbox_relay(container, stop))


async def _run_outbox_relay(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings()
    async with amqp_connection(container) as connection:
        channel = await connection.channel(publisher_confirms=True)
        customers, watermarks = await declare_relay_topology(
            channel,
            container.amqp_names(),
            PROJECTION_ROUTING_KEYS,
            settings.consumer_partitions,
            settings.amqp_quorum_queues,
        )
        appended = container.append_signal()
        relay = OutboxRelay(
            container.event_store(),
            container.relay_progress(),
            RabbitEventPublisher(customers, watermarks, container.message_signer()),
            batch_size=settings.relay_batch_size,
        )
        worker = RelayWorker(
            relay,
            container.leases(),
            container.membership(),
            container.relay_progress(),
            appended,
            member=member_id(),
            log_partitions=settings.log_partitions,
            ttl_seconds=settings.membership_ttl_seconds,
            margin_seconds=settings.lease_margin_seconds,
            sweep_seconds=settings.relay_idle_sleep_seconds,
        )
        try:
            await worker.run(stop)
        finally:
            await appended.close()


async def run_projectors(container: Container, stop: asyncio.Event, projections: Sequence[str] = ()) -> None:
    """The projections (every one, unless named), each consuming its own partitions."""
    specs = [PROJECTIONS[name] for name in projections] if projections else list(PROJECTIONS.values())
    for spec in specs:
        # A read model this code starts from nothing is built by this code's version.
        await container.checkpoints().claim_version(spec.name, spec.version)
    background = []
    if customer_details.PROJECTION_NAME in [spec.name for spec in specs]:
        counting = SegmentCounting(
            container.database(), container.event_store(), container.read_model_collections(), container.clock()
        )
        background.append(counting.run(customer_details.PROJECTION_NAME, stop))
    background.append(retired_generations(container).run(stop))
    await run_together(*(run_projection(container, stop, spec) for spec in specs), *background)


async def run_projection(container: Container, stop: asyncio.Event, spec: ProjectionSpec) -> None:
    settings = container.settings()
    names = container.amqp_names()
    decode = ProjectionMessageDecoder(container.message_signer())
    # The partitions of this process apply together what arrives at the same time.
    apply = SharedApply(spec.live(container), max_events=2 * settings.projector_batch_size)

    def handler(partition: int) -> Callable[[Sequence], Awaitable[object]]:
        monitored = MonitoredProjection(container.database(), container.clock(), spec.name, partition, apply)
        return ProjectionPartition(
            spec.name, partition, monitored, container.checkpoints(), container.read_model_announcer()
        )

    await consume_partitions(
        container,
        stop,
        group=f"projection:{spec.name}",
        declare=lambda channel: declare_projection_stream(
            channel, names, spec.name, spec.routing_keys, settings.consumer_partitions, settings.amqp_quorum_queues
        ),
        decode=decode,
        handler=handler,
        batch_size=settings.projector_batch_size,
        prefetch=settings.projector_prefetch,
        # What readers wait for goes first: its batches go as soon as their messages are in;
        # the others collect for their whole window, so they take the database after it (and
        # in bigger batches). customer_details was applied 27 ms sooner at 4 PATCHes/s
        # (bench/lag_by_rate.py: 62.7 -> 35.8 ms after the 2xx).
        batch_window_seconds=(
            settings.projector_batch_window_seconds if spec.waited_on else settings.projector_background_window_seconds
        ),
        arrival_gap_seconds=ARRIVAL_GAP_SECONDS if spec.waited_on else None,
    )


async def run_integration(container: Container, stop: asyncio.Event) -> None:
    """Consumes the order and payment services' messages, each exchange through its partitions."""
    settings = container.settings()
    names = container.amqp_names()
    handle = container.process_inbound_messages().execute

    def declare(exchange: str, routing_keys: Sequence[str]) -> Callable[[AbstractChannel], Awaitable[list[str]]]:
        return lambda channel: declare_inbound_stream(
            channel, names, exchange, routing_keys, settings.consumer_partitions, settings.amqp_quorum_queues
        )

    await run_together(
        *(
            consume_partitions(
                container,
                stop,
                group=f"inbound:{exchange}",
                declare=declare(exchange, routing_keys),
                decode=_decode_inbound,
                handler=lambda partition: handle,
                batch_size=settings.integration_batch_size,
                prefetch=settings.integration_prefetch,
                batch_window_seconds=settings.integration_batch_window_seconds,
            )
            for exchange, routing_keys in ROUTING_KEYS_BY_EXCHANGE.items()
        )
    )


def _decode_inbound(message: AbstractIncomingMessage):
    traceparent = (message.headers or {}).get("traceparent")
    if isinstance(traceparent, bytes):
        traceparent = traceparent.decode("ascii", errors="replace")
    return decode_inbound(message.body, traceparent if isinstance(traceparent, str) else None)


async def consume_partitions(
    container: Container,
    stop: asyncio.Event,
    group: str,
    declare: Callable[[AbstractChannel], Awaitable[list[str]]],
    decode: Callable[[AbstractIncomingMessage], T],
    handler: Callable[[int], Callable[[Sequence[T]], Awaitable[object]]],
    batch_size: int,
    prefetch: int,
    batch_window_seconds: float,
    arrival_gap_seconds: float | None = ARRIVAL_GAP_SECONDS,
) -> None:
    """This replica's share of a partitioned stream, consumed in batches, until `stop`."""
    settings = container.settings()
    names = container.amqp_names()

    async def consume() -> None:
        async with amqp_connection(container) as connection:
            queues = await declare(await connection.channel())

            async def run_partition(channel: AbstractChannel, queue_name: str, partition: int, until) -> None:
                await asyncio.wait_for(channel.set_qos(prefetch_count=prefetch), timeout=AMQP_SETUP_SECONDS)
                queue = await channel.get_queue(queue_name, ensure=False)
                stream = names.stream_of(queue_name)
                consumer = BatchConsumer(
                    channel,
                    queue,
                    dead_letter_exchange=names.dead_letter_exchange,
                    dead_letter_routing_key=names.dead_letter_queue(stream),
                    decode=decode,
                    handle=handler(partition),
                    batch_size=batch_size,
                    batch_window_seconds=batch_window_seconds,
                    arrival_gap_seconds=arrival_gap_seconds,
                    max_attempts=settings.projector_max_attempts,
                    stream=stream,
                )
                await consumer.run(until)

            partitioned = PartitionedConsumer(
                connection,
                container.membership(),
                group,
                member_id(),
                queues,
                run_partition,
                heartbeat_seconds=settings.membership_ttl_seconds / 4,
            )
            await partitioned.run(stop)

    # The robust connection recovers a running consumer by itself, but not one that failed
    # while starting (a quorum queue can refuse a consume that races its declaration).
    await restarting(group, stop, consume)
