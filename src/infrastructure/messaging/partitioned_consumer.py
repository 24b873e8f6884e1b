"""Replicas of a worker share a stream's partition queues.

Each replica heartbeats its membership of the group and consumes the partitions that
rendezvous hashing over the live members gives it; when a replica joins or dies, the
partitions it gains or loses move within a heartbeat or two. The queues are
single-active-consumer: during a move, the new owner's consumer waits as a standby until
the old one's channel closes, so a partition is never consumed twice at once, and its
messages stay in order. A replica killed with -9 drops its connection: RabbitMQ hands its
partitions' unacknowledged messages back at once, and its partitions are taken over
within `membership_ttl` seconds.
"""

import asyncio
from collections.abc import Callable, Sequence

import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from application.partitions import owned_by
from application.ports import Membership

log = structlog.get_logger(__name__)

# Runs the consumer of one partition queue on a channel of its own until the event is set.
PartitionRunner = Callable[[AbstractChannel, str, int, asyncio.Event], "asyncio.Future[None] | object"]


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
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._heartbeat)
                except TimeoutError:
                    pass
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
        channel = await self._connection.channel(publisher_confirms=True)
        try:
            await self._run_partition(channel, self._queues[partition], partition, stop)
        finally:
            # Closing hands back what was delivered and not handled, in order (see BatchConsumer).
            if not channel.is_closed:
                await channel.close()
