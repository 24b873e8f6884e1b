"""Rebuilding and verifying the read models on the real servers."""

import asyncio

import aio_pika
import pytest

from application.projections.rebuild import RebuildInProgress, RebuildProgress
from infrastructure.messaging.topology import PROJECTIONS as QUEUED_PROJECTIONS
from infrastructure.messaging.topology import declare_topology
from infrastructure.operations.projections import PROJECTIONS, ProjectionOperations
from tests.conftest import RABBITMQ_URL
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def register(api, settings, **body) -> dict:
    created = await api.post(CUSTOMERS, json=body, headers=bearer(settings))
    assert created.status_code == 201, created.text
    return created.json()


async def some_history(api, settings, count: int) -> list[dict]:
    customers = []
    for index in range(count):
        customer = await register(api, settings, first_name=f"Ana{index}", last_name="Silva",
                                  email=f"ana{index}@example.com")
        path = f"{CUSTOMERS}/{customer['id']}"
        await api.patch(path, json={"tags": ["vip"], "last_name": f"Costa{index}"}, headers=bearer(settings))
        await api.post(f"{path}/notes", json={"type": "personal", "content": "likes tea"}, headers=bearer(settings))
        customers.append(customer)
    await api.put(f"{CUSTOMERS}/{customers[0]['id']}/consents/marketing", json={"granted": True},
                  headers=bearer(settings))
    await api.delete(f"{CUSTOMERS}/{customers[1]['id']}", headers=bearer(settings, roles=("manager",)))
    return customers


async def live_caught_up(container, timeout: float = 15.0) -> None:
    head = await container.event_store().head_position()
    deadline = asyncio.get_running_loop().time() + timeout
    for projection in PROJECTIONS:
        while await container.checkpoints().load(projection) < head:
            assert asyncio.get_running_loop().time() < deadline, f"{projection} did not catch up"
            await asyncio.sleep(0.05)


async def test_a_rebuild_while_commands_keep_arriving_then_verify_finds_no_difference(api, workers, container, settings):
    await some_history(api, settings, 10)
    await live_caught_up(container)
    keep_going = asyncio.Event()
    written = []

    async def commands() -> None:
        index = 0
        while not keep_going.is_set():
            customer = await register(api, settings, first_name=f"During{index}", email=f"during{index}@example.com")
            await api.patch(f"{CUSTOMERS}/{customer['id']}", json={"tags": ["new"]}, headers=bearer(settings))
            written.append(customer["id"])
            index += 1

    traffic = asyncio.create_task(commands())
    try:
        await asyncio.sleep(0.3)
        # Small batches make the rebuild long enough for commands to land during every phase.
        operations = ProjectionOperations(container, batch_size=7)
        reports = [await operations.rebuild(name) for name in PROJECTIONS]
        await asyncio.sleep(0.3)
    finally:
        keep_going.set()
        await traffic
    assert written and all(report.events_replayed > 0 for report in reports)
    await live_caught_up(container)

    for name in PROJECTIONS:
        report = await ProjectionOperations(container).verify(name)
        assert report.differences == (), report
        assert report.compared > 0

    views = container.database()["customer_details"]
    assert await views.count_documents({}) == 10 + len(written)
    indexes = await views.index_information()
    assert {"list_by_created_at", "lookup_by_created_at"} <= set(indexes)
    collections = await container.database().list_collection_names()
    assert not [name for name in collections if "__" in name]


class Interrupted(Exception):
    """Stands for a Ctrl-C or a crash in the middle of a rebuild."""


class InterruptAfter(RebuildProgress):
    def __init__(self, batches: int):
        self.batches = batches

    def phase(self, name: str, done: int, total: int) -> None:
        pass

    def advanced(self, done: int, total: int) -> None:
        self.batches -= 1
        if self.batches == 0:
            raise Interrupted


async def test_an_interrupted_rebuild_leaves_the_live_model_alone_and_can_be_resumed_or_abandoned(
    api, workers, container, settings
):
    await some_history(api, settings, 6)
    await live_caught_up(container)
    views = container.database()["customer_details"]
    before = [document async for document in views.find({}, sort=[("_id", 1)])]
    operations = ProjectionOperations(container, batch_size=5)

    with pytest.raises(Interrupted):
        await operations.rebuild("customer_details", progress=InterruptAfter(2))
    assert [document async for document in views.find({}, sort=[("_id", 1)])] == before
    [details, _] = await operations.status()
    assert details.interrupted_rebuild_at == 10
    with pytest.raises(RebuildInProgress):
        await operations.rebuild("customer_details")

    report = await operations.rebuild("customer_details", resume=True)
    assert report.resumed_from == 10
    assert (await operations.verify("customer_details")).differences == ()

    with pytest.raises(Interrupted):
        await operations.rebuild("customer_history", progress=InterruptAfter(1))
    assert await operations.abandon("customer_history") is True
    assert "customer_history__rebuild" not in await container.database().list_collection_names()
    assert (await operations.verify("customer_history")).differences == ()
    assert all(status.interrupted_rebuild_at is None for status in await operations.status())


async def test_a_rebuild_publishes_nothing_and_refreshes_no_cache(api, container, settings):
    # No relay and no projector run here: whatever reaches a queue or the cache came from the rebuild.
    await some_history(api, settings, 3)
    names = container.amqp_names()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await declare_topology(channel, names, quorum=True)
        for name in PROJECTIONS:
            await ProjectionOperations(container).rebuild(name)
        for projection in QUEUED_PROJECTIONS:
            queue = await channel.declare_queue(names.projection_queue(projection), passive=True)
            assert queue.declaration_result.message_count == 0
    # No cached customer (the rate limiter's counters share the prefix: not the cache).
    keys = [key async for key in container.redis_client().scan_iter(match=f"{settings.redis_key_prefix}customer:*")]
    assert keys == []
    assert await container.database()["customer_details"].count_documents({}) == 3


async def test_an_upcast_v1_event_loads_the_aggregate_and_rebuilds_the_read_model(api, container, settings):
    from tests.unit.test_event_upcasting import v1_document

    customer = await register(api, settings, first_name="Ana")
    database = container.database()
    # A consent recorded by the code of before version 2, stored as it was then.
    position = (await database["counters"].find_one_and_update({"_id": "event_position"}, {"$inc": {"value": 1}},
                                                               return_document=True))["value"]
    await database["events"].insert_one({**v1_document(customer["id"]), "position": position})

    [_, consent] = await container.event_store().load_stream(customer["id"])
    assert (consent.event.purpose, consent.event.granted) == ("marketing_email", True)
    # A command loads the aggregate through the v1 event, and appends after it.
    patched = await api.patch(f"{CUSTOMERS}/{customer['id']}", json={"last_name": "Silva"}, headers=bearer(settings))
    assert patched.status_code == 200, patched.text
    assert patched.json()["consents"]["marketing_email"]["source"] == "signup_form"

    await ProjectionOperations(container).rebuild("customer_details")
    view = await container.customer_views().get("biz_1", customer["id"])
    assert view is not None and view.version == 3
    assert view.consents["marketing_email"].legal_basis == "consent"
