"""Rebuilding and verifying the read models on the real servers."""

import asyncio

import aio_pika
import pytest

from application.projections.rebuild import RebuildInProgress, RebuildProgress
from infrastructure.messaging.topology import declare_relay_topology
from infrastructure.mongo import customer_views
from infrastructure.mongo.documents import CustomerSearchEntry
from infrastructure.mongo.retired_generations import RetiredGenerations
from infrastructure.operations.projections import ProjectionOperations
from infrastructure.projection_registry import PROJECTIONS
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS
from tests.conftest import RABBITMQ_URL
from tests.fakes import FixedClock
from tests.projections import until_projected
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
        customer = await register(
            api, settings, first_name=f"Ana{index}", last_name="Silva", email=f"ana{index}@example.com"
        )
        path = f"{CUSTOMERS}/{customer['id']}"
        await api.patch(path, json={"tags": ["vip"], "last_name": f"Costa{index}"}, headers=bearer(settings))
        await api.post(f"{path}/notes", json={"type": "personal", "content": "likes tea"}, headers=bearer(settings))
        customers.append(customer)
    await api.put(
        f"{CUSTOMERS}/{customers[0]['id']}/consents/marketing", json={"granted": True}, headers=bearer(settings)
    )
    await api.delete(f"{CUSTOMERS}/{customers[1]['id']}", headers=bearer(settings, roles=("manager",)))
    return customers


async def live_caught_up(container) -> None:
    for projection in PROJECTIONS:
        await until_projected(container, "biz_1", projection)


async def live_views(container):
    return container.database()[
        await container.read_model_collections().read_name("customer_details", "customer_details")
    ]


async def test_a_rebuild_while_commands_keep_arriving_then_verify_finds_no_difference(
    api, workers, container, settings
):
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

    views = await live_views(container)
    assert views.name == "customer_details__g1"
    assert await views.count_documents({}) == 10 + len(written)
    indexes = await views.index_information()
    assert {"list_by_created_at", "facets_by_last_name"} <= set(indexes)
    # Only the live generations are left, once the projectors have dropped the old ones in
    # the background: no old one, no build, no verify scratch.
    read_model = ("customer_details", "customer_search", "customer_notes", "segments", "segment_counts")

    async def read_model_collections() -> list[str]:
        collections = await container.database().list_collection_names()
        return sorted(name for name in collections if name.startswith((*read_model, "customer_history")))

    # The projectors drop them in small deletes that readers pass between (sized by their
    # time): on a slow machine that takes a while.
    expected = [
        "customer_details__g1",
        "customer_history__g1",
        "customer_notes__g1",
        "customer_search__g1",
        "segment_counts__g1",
        "segments__g1",
    ]
    for _ in range(900):
        if await read_model_collections() == expected:
            break
        await asyncio.sleep(0.1)
    assert await read_model_collections() == expected
    assert not any(status.retired_generations for status in await ProjectionOperations(container).status())


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
    views = await live_views(container)
    before = [document async for document in views.find({}, sort=[("_id", 1)])]
    operations = ProjectionOperations(container, batch_size=5)

    with pytest.raises(Interrupted):
        await operations.rebuild("customer_details", progress=InterruptAfter(2))
    assert [document async for document in views.find({}, sort=[("_id", 1)])] == before
    assert (await live_views(container)).name == views.name
    statuses = {status.name: status for status in await operations.status()}
    assert statuses["customer_details"].interrupted_rebuild
    with pytest.raises(RebuildInProgress):
        await operations.rebuild("customer_details")

    report = await operations.rebuild("customer_details", resume=True)
    assert report.resumed
    assert (await operations.verify("customer_details")).differences == ()

    with pytest.raises(Interrupted):
        await operations.rebuild("customer_history", progress=InterruptAfter(1))
    assert await operations.abandon("customer_history") is True
    assert "customer_history__g1" not in await container.database().list_collection_names()
    assert (
        await container.read_model_collections().read_name("customer_history", "customer_history") == "customer_history"
    )
    assert (await operations.verify("customer_history")).differences == ()
    assert not any(status.interrupted_rebuild for status in await operations.status())


async def test_a_rebuild_interrupted_between_views_and_search_entries_resumes_to_a_whole_read_model(
    api, container, settings, monkeypatch
):
    """A flush writes the views, then their search entries: a crash between the two leaves
    views whose entries are missing, and the resumed replay finds those views already up to
    date. It writes their entries all the same."""
    await some_history(api, settings, 4)
    written = customer_views.bulk_write_in_chunks

    async def crash_before_search_entries(collection, operations, ordered, *args, **kwargs):
        if collection.name.startswith(CustomerSearchEntry.Settings.name) and operations:
            raise Interrupted
        await written(collection, operations, ordered, *args, **kwargs)

    operations = ProjectionOperations(container)
    monkeypatch.setattr(customer_views, "bulk_write_in_chunks", crash_before_search_entries)
    with pytest.raises(Interrupted):
        await operations.rebuild("customer_details")
    monkeypatch.setattr(customer_views, "bulk_write_in_chunks", written)
    build = container.database()["customer_details__g1"]
    assert await build.count_documents({}) == 4
    assert await container.database()["customer_search__g1"].count_documents({}) == 0

    await operations.rebuild("customer_details", resume=True)
    assert await container.database()["customer_search__g1"].count_documents({}) == 4
    assert (await operations.verify("customer_details")).differences == ()
    found = await api.get(f"{CUSTOMERS}/search", params={"q": "costa2"}, headers=bearer(settings))
    assert [customer["last_name"] for customer in found.json()["items"]] == ["Costa2"]


async def test_a_rebuild_publishes_nothing_and_refreshes_no_cache(api, container, settings):
    # No relay and no projector run here: whatever reaches a queue or the cache came from the rebuild.
    await some_history(api, settings, 3)
    names = container.amqp_names()
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        partitions = settings.consumer_partitions
        await declare_relay_topology(channel, names, PROJECTION_ROUTING_KEYS, partitions, quorum=True)
        for name in PROJECTIONS:
            await ProjectionOperations(container).rebuild(name)
        for projection in PROJECTIONS:
            for partition in range(partitions):
                queue_name = names.partition_queue(names.projection_stream(projection), partition)
                queue = await channel.declare_queue(queue_name, passive=True)
                assert queue.declaration_result.message_count == 0
    # No cached customer (the rate limiter's counters share the prefix: not the cache).
    keys = [key async for key in container.redis_client().scan_iter(match=f"{settings.redis_key_prefix}customer:*")]
    assert keys == []
    assert await (await live_views(container)).count_documents({}) == 3


async def test_an_upcast_v1_event_loads_the_aggregate_and_rebuilds_the_read_model(api, container, settings):
    from tests.unit.test_event_upcasting import v1_document

    customer = await register(api, settings, first_name="Ana")
    database = container.database()
    # A consent recorded by the code of before version 2, stored as it was then, with no
    # snapshot after it (as none was written then).
    position = (
        await database["business_logs"].find_one_and_update(
            {"_id": "biz_1"}, {"$inc": {"head": 1}}, return_document=True
        )
    )["head"]
    await database["events"].insert_one({**v1_document(customer["id"]), "business_id": "biz_1", "position": position})
    await database["customer_snapshots"].delete_one({"_id": customer["id"]})

    [_, consent] = await container.event_store().load_stream("biz_1", customer["id"])
    assert (consent.event.purpose, consent.event.granted) == ("marketing_email", True)
    # A command loads the aggregate through the v1 event, and appends after it.
    patched = await api.patch(f"{CUSTOMERS}/{customer['id']}", json={"last_name": "Silva"}, headers=bearer(settings))
    assert patched.status_code == 200, patched.text
    assert patched.json()["consents"]["marketing_email"]["source"] == "signup_form"

    await ProjectionOperations(container).rebuild("customer_details")
    view = await container.customer_views().get("biz_1", customer["id"])
    assert view is not None and view.version == 3
    assert view.consents["marketing_email"].legal_basis == "consent"


def janitor_of(container, clock) -> RetiredGenerations:
    """What the projectors run, on a clock the test moves; a generation is unused after 60 s."""
    bases = {name: spec.bases for name, spec in PROJECTIONS.items()}
    return RetiredGenerations(container.database(), bases, clock, unused_after_seconds=60, drop_batch=2)


async def test_the_old_generation_is_dropped_in_the_background_only_once_nobody_can_write_it(api, container, settings):
    await some_history(api, settings, 2)
    operations = ProjectionOperations(container, batch_size=5)
    await operations.rebuild("customer_history")
    # Readers and projectors have moved; the old generation waits for the projectors.
    statuses = {status.name: status for status in await operations.status()}
    assert statuses["customer_history"].retired_generations == (0,)
    assert await container.read_model_collections().read_name("customer_history", "customer_history") == (
        "customer_history__g1"
    )
    assert "customer_history" in await container.database().list_collection_names()

    retired = await container.database()["read_models"].find_one({"_id": "customer_history"})
    clock = FixedClock(retired["retired"][0]["at"])
    janitor = janitor_of(container, clock)
    clock.advance(59)
    assert await janitor.drop_due() == 0
    assert "customer_history" in await container.database().list_collection_names()

    clock.advance(2)
    assert await janitor.drop_due() == 1
    assert "customer_history" not in await container.database().list_collection_names()
    assert "customer_history__g1" in await container.database().list_collection_names()
    statuses = {status.name: status for status in await operations.status()}
    assert statuses["customer_history"].retired_generations == ()
    assert await janitor.drop_due() == 0  # a second projector replica finds nothing left

    # A write that began before the switch and lands after the drop makes the old
    # collection again: a stray, which the next sweep drops.
    await container.database()["customer_history"].insert_one({"_id": "late"})
    late_janitor = janitor_of(container, clock)
    assert await late_janitor.drop_due() == 1
    assert "customer_history" not in await container.database().list_collection_names()
    assert "customer_history__g1" in await container.database().list_collection_names()
