"""A partition whose consumer fails is consumed again in place: the replica keeps its
membership and its other partitions (RabbitMQ can refuse a consume that races a quorum
queue's declaration, and close the connection as it does)."""

import asyncio
from collections import Counter

import pytest

from infrastructure.messaging.partitioned_consumer import IN_PLACE_ATTEMPTS, PartitionedConsumer
from infrastructure.runtime import amqp_connection

pytestmark = pytest.mark.integration
GROUP = "test-consumers"


async def eventually(condition, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached in time")


async def test_a_partition_that_fails_is_consumed_again_without_a_restart(container):
    runs: Counter[int] = Counter()
    async with amqp_connection(container) as connection:

        async def run_partition(channel, queue_name, partition, until):
            runs[partition] += 1
            if partition == 0 and runs[partition] == 1:
                # As the broker does after a refused consume: the connection goes, then the call fails.
                await connection.transport.connection.close()
                raise RuntimeError("consume refused")
            await until.wait()

        consumer = PartitionedConsumer(
            connection, container.membership(), GROUP, "member-a", ["q0", "q1"], run_partition, heartbeat_seconds=0.2
        )
        stop = asyncio.Event()
        running = asyncio.create_task(consumer.run(stop))
        try:
            # Once the connection is back, each partition is consumed again on a new channel
            # (the robust channel's restore of its consumer is not relied on).
            await eventually(lambda: runs[0] >= 2 and runs[1] >= 2)
            settled = dict(runs)
            await asyncio.sleep(0.5)  # a few heartbeats: nothing else moves
            assert runs == settled
            assert not running.done()
            assert consumer.partitions == {0, 1}
            assert runs[1] == 2
            assert await container.membership().heartbeat(GROUP, "member-b") == ["member-a", "member-b"]
        finally:
            stop.set()
            await running


async def test_a_partition_that_keeps_failing_ends_the_worker(container):
    runs: Counter[int] = Counter()
    async with amqp_connection(container) as connection:

        async def run_partition(channel, queue_name, partition, until):
            runs[partition] += 1
            if partition == 1:
                raise RuntimeError("queue gone")
            await until.wait()

        consumer = PartitionedConsumer(
            connection, container.membership(), GROUP, "member-a", ["q0", "q1"], run_partition, heartbeat_seconds=0.2
        )
        with pytest.raises(RuntimeError, match="queue gone"):
            await asyncio.wait_for(consumer.run(asyncio.Event()), timeout=20)
        assert runs[1] == IN_PLACE_ATTEMPTS
        # It left the group on the way out: `restarting` starts it again as a new member.
        assert await container.membership().heartbeat(GROUP, "member-b") == ["member-b"]


async def test_a_partition_cancelled_from_within_ends_the_worker_to_start_on_a_new_connection(container):
    """aiormq cancels the futures of a connection RabbitMQ closed (541): the consume gets a
    CancelledError nobody asked for. Taken for a stop, it ended the partition for good;
    consumed again in place, the partition waited for that connection for good."""
    runs: Counter[int] = Counter()
    async with amqp_connection(container) as connection:

        async def run_partition(channel, queue_name, partition, until):
            runs[partition] += 1
            if partition == 0:
                closed_connections_future = asyncio.get_running_loop().create_future()
                asyncio.get_running_loop().call_soon(closed_connections_future.cancel)
                await closed_connections_future
            await until.wait()

        consumer = PartitionedConsumer(
            connection, container.membership(), GROUP, "member-a", ["q0", "q1"], run_partition, heartbeat_seconds=0.2
        )
        with pytest.raises(RuntimeError, match="cancelled from within"):
            await asyncio.wait_for(consumer.run(asyncio.Event()), timeout=20)
        assert runs[0] == 1
        # It left the group on the way out: `restarting` starts it again as a new member.
        assert await container.membership().heartbeat(GROUP, "member-b") == ["member-b"]
