"""Replicas of a worker share a stream's partition queues.

Each replica heartbeats its membership of the group and consumes the partitions that
rendezvous hashing over the live members gives it; when a replica joins or dies, the
partitions it gains or loses move within a heartbeat or two. The queues are
single-active-consumer: during a move, the new owner's consumer waits as a standby until
the old one's channel closes, so a partition is never consumed twice at once, and its
messages stay in order. A replica killed with -9 drops its connection: RabbitMQ hands its
partitions' unacknowledged messages back at once, and its partitions are taken over
within `membership_ttl` seconds.

A partition whose consumer fails (RabbitMQ can refuse a consume that races a quorum
queue's declaration, and then closes the connection) is consumed again in place, once the
connection is back, a few times before the failure ends the worker: the replica keeps its
other partitions and its membership, so the partition is back within a second instead of
after a restart of the whole worker and a new rebalance.
"""

import asyncio
import time
from collections.abc import Callable, Sequence

import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from application.partitions import owned_by
from application.ports import Membership
from application.stopping import pause
from infrastructure.cancellation import asked_to_stop
from infrastructure.messaging.failures import AMQP_SETUP_SECONDS

log = structlog.get_logger(__name__)

# Runs the consumer of one partition queue on a channel of its own until the event is set.
PartitionRunner = Callable[[AbstractChannel, str, int, asyncio.Event], "asyncio.Future[None] | object"]

# Failures in a row a partition is consumed again after, in place, before its failure ends
# the worker (which `restarting` then starts again); a run this long resets the count.
IN_PLACE_ATTEMPTS = 5
HEALTHY_RUN_SECONDS = 30.0


class PartitionedConsumer:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        membership: Membership,
        group: str,
        member: str,
        queues: Sequence[str],
        run_partition: PartitionRunner,
        heartbeat_seconds: float,
    ):
        self._connection = connection
        self._membership = membership
        self._group = group
        self._member = member
        self._queues = list(queues)
        self._run_partition = run_partition
        self._heartbeat = heartbeat_seconds
        self._running: dict[int, tuple[asyncio.Event, asyncio.Task]] = {}

    @property
    def partitions(self) -> set[int]:
        return set(self._running)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                for partition, (_, task) in list(self._running.items()):
                    if task.done():
                        del self._running[partition]
                        task.result()  # a partition that failed fails the worker, which restarts it
                try:
                    members = await self._membership.heartbeat(self._group, self._member)
                except Exception:  # the database away: keep what we have, the others do too
                    log.exception("membership heartbeat failed", group=self._group)
                else:
                    await self._rebalance(owned_by(self._member, len(self._queues), members))
                await pause(stop, self._heartbeat)
        finally:
            await self._rebalance(set())
            try:
                await self._membership.leave(self._group, self._member)
            except Exception:
                log.warning("could not leave the group", group=self._group)

    async def _rebalance(self, wanted: set[int]) -> None:
        for partition in sorted(set(self._running) - wanted):
            stop, task = self._running.pop(partition)
            stop.set()
            await asyncio.gather(task, return_exceptions=True)
            log.info("partition handed over", group=self._group, partition=partition)
        for partition in sorted(wanted - set(self._running)):
            stop = asyncio.Event()
            self._running[partition] = (stop, asyncio.create_task(self._consume(partition, stop)))
            log.info("partition taken", group=self._group, partition=partition)

    async def _consume(self, partition: int, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self._consume_once(partition, stop)
                if stop.is_set():
                    return
                log.info("connection back; consuming the partition again", group=self._group, partition=partition)
                continue
            except asyncio.CancelledError:
                if asked_to_stop():
                    raise
                # Nobody asked: aiormq cancelled a closed connection's futures (see
                # `cancellation`). Consumed again in place on that connection, the partition
                # waited for it for good (a CI run's workers never got ready): the worker
                # starts over on a new one (`runtime.restarting`).
                raise RuntimeError("partition consumer cancelled from within") from None
            except Exception:
                failures = 1 if time.monotonic() - started >= HEALTHY_RUN_SECONDS else failures + 1
                if failures >= IN_PLACE_ATTEMPTS:
                    raise
                log.warning("partition consumer failed; consuming it again", group=self._group,
                            partition=partition, failure=failures, exc_info=True)  # fmt: skip
                await pause(stop, min(0.1 * 2**failures, 2.0))

    async def _consume_once(self, partition: int, stop: asyncio.Event) -> None:
        # After a connection-level failure: back once it is. Each step is bounded: a start
        # that hangs is a failure, retried (see `AMQP_SETUP_SECONDS`).
        await asyncio.wait_for(self._connection.ready(), timeout=AMQP_SETUP_SECONDS)
        channel = self._connection.channel(publisher_confirms=True)
        await asyncio.wait_for(channel.initialize(), timeout=AMQP_SETUP_SECONDS)
        # Until `stop`, or until the connection comes back after a loss: the consume then
        # starts again on a new channel. The robust channel's own restore of its consumer
        # is not relied on: after RabbitMQ closed a connection with 541, a partition's
        # queue once stayed without a consumer for good, its channel seemingly open.
        ended = asyncio.Event()

        def on_reconnect(*_: object) -> None:
            ended.set()

        relay_stop = asyncio.create_task(_set_when(stop, ended))
        self._connection.reconnect_callbacks.add(on_reconnect)
        try:
            await self._run_partition(channel, self._queues[partition], partition, ended)
        finally:
            if not self._connection.reconnect_callbacks.is_frozen:  # frozen once the connection is closed
                self._connection.reconnect_callbacks.discard(on_reconnect)
            relay_stop.cancel()
            # Closing hands back what was delivered and not handled, in order (see BatchConsumer).
            if not channel.is_closed:
                await channel.close()


async def _set_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
