"""Parked messages: seen with their reason, and redriven once the cause is fixed."""

import asyncio

import pytest

from infrastructure.operations.dead_letters import DeadLetterOperations, UnknownDeadLetterQueue
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


def dead_letters(container, settings) -> DeadLetterOperations:
    return DeadLetterOperations(
        settings.rabbitmq_url, container.amqp_names(), quorum=True, partitions=settings.consumer_partitions
    )


async def wait_for_depth(operations: DeadLetterOperations, queue: str, depth: int, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await operations.depths())[queue] != depth:
        assert asyncio.get_running_loop().time() < deadline, f"{queue} never held {depth} messages"
        await asyncio.sleep(0.2)


async def test_a_parked_message_is_redriven_through_its_consumer_once_the_cause_is_fixed(
    api, workers, container, settings
):
    created = await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))
    customer_id = created.json()["id"]
    assert (await api.get(f"{CUSTOMERS}/{customer_id}?min_version=1", headers=bearer(settings))).status_code == 200
    await until_projected(container)
    views = container.database()["customer_details"]
    # The cause: a view the projector cannot read, so the next event for it fails every attempt.
    await views.update_one({"_id": customer_id}, {"$set": {"state": {"broken": True}}})
    patched = await api.patch(f"{CUSTOMERS}/{customer_id}", json={"last_name": "Silva"}, headers=bearer(settings))
    assert patched.status_code == 200

    operations = dead_letters(container, settings)
    queue, _ = operations.resolve("customer_details")
    await wait_for_depth(operations, queue, 1)
    [letter] = await operations.peek("customer_details", 10)
    assert letter.event_type == "customer.updated" and letter.attempts == 5
    assert "ValidationError" in letter.reason and letter.first_failure_at and letter.last_failure_at
    assert letter.payload["customer_id"] == customer_id
    assert (await operations.depths())[queue] == 1, "looking must leave the message parked"

    # The fix: the broken view goes; the redriven event rebuilds it from the event store.
    await views.delete_one({"_id": customer_id})
    moved = []
    assert await operations.redrive("customer_details", None, lambda done, total: moved.append((done, total))) == 1
    assert moved == [(1, 1)]
    read = await api.get(f"{CUSTOMERS}/{customer_id}?min_version=2", headers=bearer(settings))
    assert read.status_code == 200 and read.json()["last_name"] == "Silva"
    assert (await operations.depths())[queue] == 0


async def test_purge_drops_and_unknown_queues_are_refused(container, settings):
    operations = dead_letters(container, settings)
    assert await operations.purge("customer_history") == 0
    with pytest.raises(UnknownDeadLetterQueue):
        operations.resolve("nope")
