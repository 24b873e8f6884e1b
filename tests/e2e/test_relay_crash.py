import asyncio
import signal
import sys
from pathlib import Path

import aio_pika
import pytest

from infrastructure.messaging.topology import declare_relay_topology
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS
from infrastructure.runtime import run_projectors
from tests.conftest import RABBITMQ_URL, settings_environment
from tests.e2e.relay_that_dies_before_checkpoint import DIED_EXIT_CODE
from tests.tokens import bearer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def _process(settings, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", *args, env=settings_environment(settings), cwd=ROOT
    )


async def _until(condition, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_event_whose_relay_dies_after_publishing_reaches_the_read_model_exactly_once(api, container, settings):
    progress = container.relay_progress()
    connection = await aio_pika.connect(RABBITMQ_URL)
    stop_projector = asyncio.Event()
    projector = asyncio.create_task(run_projectors(container, stop_projector))
    try:
        channel = await connection.channel()
        names = container.amqp_names()
        partitions = settings.consumer_partitions
        exchange, _ = await declare_relay_topology(channel, names, PROJECTION_ROUTING_KEYS, partitions, quorum=True)
        spy = await channel.declare_queue(exclusive=True)
        await spy.bind(exchange, routing_key="customer.#")

        # Committed while no relay runs: stored, not yet published.
        created = await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))
        assert created.status_code == 201
        customer_id = created.json()["id"]
        [event] = await container.event_store().load_stream("biz_1", customer_id)
        await asyncio.sleep(0.3)
        # It exists but was never published: the read waits, then says it is not caught up.
        unpublished = await api.get(f"{CUSTOMERS}/{customer_id}", headers=bearer(settings))
        assert unpublished.status_code == 503
        assert unpublished.headers["retry-after"]

        dying = await _process(settings, "tests.e2e.relay_that_dies_before_checkpoint")
        assert await asyncio.wait_for(dying.wait(), timeout=30) == DIED_EXIT_CODE
        assert await progress.published({"biz_1"}) == {}

        read = await api.get(f"{CUSTOMERS}/{customer_id}?min_version=1", headers=bearer(settings))
        assert read.status_code == 200

        relay = await _process(settings, "interfaces.cli.main", "worker", "relay")

        # It takes over the dead relay's partition once that one's lease has expired.
        async def relay_caught_up() -> bool:
            return await progress.published({"biz_1"}) == {"biz_1": event.position}

        await _until(relay_caught_up)
        relay.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(relay.wait(), timeout=15) == 0

        deliveries = [await spy.get(timeout=5) for _ in range(2)]
        assert [message.message_id for message in deliveries] == [event.event_id, event.event_id]

        # Both deliveries were consumed and acknowledged: once the projector has stopped,
        # nothing is left in its queues (unacknowledged messages would be back there).
        stream = names.projection_stream("customer_details")
        queues = [names.partition_queue(stream, partition) for partition in range(partitions)]

        async def projection_queues_drained() -> bool:
            depths = [(await channel.declare_queue(queue, passive=True)).declaration_result for queue in queues]
            return all(depth.message_count == 0 for depth in depths)

        await _until(projection_queues_drained)
        stop_projector.set()
        await asyncio.wait_for(projector, timeout=10)
        assert await projection_queues_drained()

        document = await container.database()["customer_details"].find_one({"_id": customer_id})
        assert document["version"] == 1
        final = await api.get(f"{CUSTOMERS}/{customer_id}", headers=bearer(settings))
        assert final.json() == read.json()
    finally:
        stop_projector.set()
        await asyncio.wait_for(projector, timeout=10)
        await connection.close()
