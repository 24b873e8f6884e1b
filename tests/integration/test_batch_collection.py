"""How a consumer batches on a real queue: a lone message goes at once, without waiting
out the window; a consumer without the arrival gap keeps collecting for its window."""

import asyncio
import uuid

import aio_pika
import pytest

from infrastructure.messaging.batch_consumer import BatchConsumer
from tests.conftest import RABBITMQ_URL

pytestmark = pytest.mark.integration


async def eventually(condition, seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not reached in time")


async def consume(window: float, gap: float | None, publishing) -> list[list[bytes]]:
    batches: list[list[bytes]] = []
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"test-batches-{uuid.uuid4().hex[:8]}", auto_delete=True)

        async def handle(values) -> None:
            batches.append(list(values))

        consumer = BatchConsumer(
            channel, queue, dead_letter_exchange="", dead_letter_routing_key="unused",
            decode=lambda message: message.body, handle=handle, batch_size=100,
            batch_window_seconds=window, max_attempts=1, arrival_gap_seconds=gap,
        )  # fmt: skip
        stop = asyncio.Event()
        running = asyncio.create_task(consumer.run(stop))
        try:
            await publishing(channel, queue.name, batches)
        finally:
            stop.set()
            await running
    return batches


async def test_a_lone_message_is_handled_without_waiting_out_the_window():
    async def publishing(channel, queue_name, batches) -> None:
        await channel.default_exchange.publish(aio_pika.Message(b"alone"), routing_key=queue_name)
        # The window is 20 s: only the arrival gap lets the batch go before it.
        await eventually(lambda: batches, seconds=10)

    assert await consume(window=20.0, gap=0.002, publishing=publishing) == [[b"alone"]]


async def test_without_the_gap_a_batch_collects_for_its_window():
    async def publishing(channel, queue_name, batches) -> None:
        await channel.default_exchange.publish(aio_pika.Message(b"first"), routing_key=queue_name)
        await asyncio.sleep(0.1)
        await channel.default_exchange.publish(aio_pika.Message(b"second"), routing_key=queue_name)
        await eventually(lambda: sum(map(len, batches)) == 2, seconds=10)

    assert await consume(window=1.0, gap=None, publishing=publishing) == [[b"first", b"second"]]


async def test_a_consumer_whose_channel_stays_closed_fails_rather_than_waiting_for_good(monkeypatch):
    # A robust channel whose restore failed after a reconnect stays closed: its consumer
    # must fail (and be consumed again), not wait for deliveries that never come.
    monkeypatch.setattr("infrastructure.messaging.batch_consumer.AMQP_SETUP_SECONDS", 0.5)
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"test-batches-{uuid.uuid4().hex[:8]}", auto_delete=True)

        async def handle(values) -> None:
            return None

        consumer = BatchConsumer(
            channel, queue, dead_letter_exchange="", dead_letter_routing_key="unused",
            decode=lambda message: message.body, handle=handle, batch_size=100,
            batch_window_seconds=0.01, max_attempts=1,
        )  # fmt: skip
        running = asyncio.create_task(consumer.run(asyncio.Event()))
        await asyncio.sleep(0.3)
        assert not running.done()
        await channel.close()
        with pytest.raises(ConnectionError, match="stayed closed"):
            await asyncio.wait_for(running, timeout=10)
