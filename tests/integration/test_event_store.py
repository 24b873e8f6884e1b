import asyncio
from datetime import UTC, datetime

import pytest

from application.errors import VersionConflict
from application.commits import Commit, StreamChanges
from application.events import EventMetadata
from domain.customer.events import CustomerRegistered

pytestmark = pytest.mark.integration
METADATA = EventMetadata(business_id="biz_1", actor="user_1", correlation_id="corr", causation_id="cause")


def _commit(stream_id: str, events: list) -> Commit:
    return Commit(streams=(StreamChanges(stream_id=stream_id, expected_version=0, events=tuple(events)),))


def registered(name: str) -> CustomerRegistered:
    return CustomerRegistered(
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC), business_id="biz_1", first_name=name,
        type="anonymous", segment="walk_in",
    )


async def test_appends_get_consecutive_global_positions_and_stream_versions(container):
    store = container.event_store()
    assert await store.append(_commit("cus_a", [registered("A")]), METADATA) == 1
    assert await store.append(_commit("cus_b", [registered("B")]), METADATA) == 2
    events = await store.read_all(0, 10)
    assert [(event.stream_id, event.version, event.position) for event in events] == [("cus_a", 1, 1), ("cus_b", 1, 2)]
    assert events[0].metadata == METADATA
    assert events[0].event == registered("A")
    assert await store.head_position() == 2
    assert await store.stream_version("cus_a") == 1


async def test_a_second_append_at_the_same_version_is_a_conflict_and_leaves_no_trace(container):
    store = container.event_store()
    await store.append(_commit("cus_a", [registered("A")]), METADATA)
    with pytest.raises(VersionConflict):
        await store.append(_commit("cus_a", [registered("Again")]), METADATA)
    assert await store.head_position() == 1
    assert [event.event.first_name for event in await store.load_stream("cus_a")] == ["A"]


async def test_concurrent_appends_from_two_clients_lose_nothing_and_leave_no_gap(container, settings):
    from infrastructure.mongo.client import create_mongo_client
    from infrastructure.crypto.customer_keys import CustomerKeyring
    from infrastructure.mongo.event_store import MongoEventStore

    # A second store with its own client and lock stands for a second process.
    other_client = create_mongo_client(settings.mongodb_url)
    other_database = other_client[settings.mongodb_database]
    other = MongoEventStore(
        other_database, container.clock(), CustomerKeyring(other_database, container.master_keys()), container.contact_key_ids()
    )
    mine = container.event_store()
    try:
        await asyncio.gather(
            *(
                (mine if index % 2 else other).append(_commit(f"cus_{index}", [registered(str(index))]), METADATA)
                for index in range(40)
            )
        )
    finally:
        await other_client.close()
    positions = [event.position for event in await mine.read_all(0, 100)]
    assert positions == list(range(1, 41))


async def test_loading_a_stream_range_returns_only_those_versions(container):
    store = container.event_store()
    await store.append(_commit("cus_a", [registered("1"), registered("2"), registered("3")]), METADATA)
    loaded = await store.load_stream("cus_a", after_version=1, up_to_version=2)
    assert [event.version for event in loaded] == [2]
