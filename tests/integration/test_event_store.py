import asyncio
from datetime import UTC, datetime

import pytest

from application.commits import Commit, ContactKey, StreamChanges
from application.errors import ContactAlreadyTaken, VersionConflict
from application.events import EventMetadata
from domain.customer.events import CustomerRegistered

pytestmark = pytest.mark.integration


def metadata(business_id: str = "biz_1") -> EventMetadata:
    return EventMetadata(business_id=business_id, actor="user_1", correlation_id="corr", causation_id="cause")


def _commit(stream_id: str, events: list, business_id: str = "biz_1", version: int = 0, claims=()) -> Commit:
    return Commit(
        business_id=business_id,
        streams=(StreamChanges(stream_id=stream_id, expected_version=version, events=tuple(events)),),
        claims=tuple(claims),
    )


def registered(name: str, business_id: str = "biz_1") -> CustomerRegistered:
    return CustomerRegistered(
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        business_id=business_id,
        first_name=name,
        type="anonymous",
        segment="walk_in",
    )


async def test_appends_get_consecutive_positions_in_their_business_log_and_stream_versions(container):
    store = container.event_store()
    assert await store.append(_commit("cus_a", [registered("A")]), metadata()) == 1
    assert await store.append(_commit("cus_b", [registered("B")]), metadata()) == 2
    assert await store.append(_commit("cus_x", [registered("X", "biz_2")], "biz_2"), metadata("biz_2")) == 1
    events = await store.read_log("biz_1", 0, 10)
    assert [(event.stream_id, event.version, event.position) for event in events] == [("cus_a", 1, 1), ("cus_b", 1, 2)]
    assert events[0].metadata == metadata()
    assert events[0].event == registered("A")
    assert await store.head_position("biz_1") == 2
    assert await store.heads_of({"biz_1", "biz_2", "biz_3"}) == {"biz_1": 2, "biz_2": 1}
    assert await store.heads(None, 10) == [("biz_1", 2), ("biz_2", 1)]
    assert await store.stream_version("biz_1", "cus_a") == 1
    assert await store.load_stream("biz_2", "cus_a") == []


async def test_a_second_append_at_the_same_version_is_a_conflict_and_leaves_no_trace(container):
    store = container.event_store()
    await store.append(_commit("cus_a", [registered("A")]), metadata())
    with pytest.raises(VersionConflict):
        await store.append(_commit("cus_a", [registered("Again")]), metadata())
    assert await store.head_position("biz_1") == 1
    assert [event.event.first_name for event in await store.load_stream("biz_1", "cus_a")] == ["A"]


async def test_concurrent_appends_from_two_clients_lose_nothing_and_leave_no_gap(container, settings):
    from infrastructure.crypto.customer_keys import CustomerKeyring
    from infrastructure.mongo.client import create_mongo_client
    from infrastructure.mongo.event_store import MongoEventStore

    # A second store with its own client and groups stands for a second process.
    other_client = create_mongo_client(settings.mongodb_url)
    other_database = other_client[settings.mongodb_database]
    other = MongoEventStore(
        other_database,
        container.clock(),
        CustomerKeyring(other_database, container.master_keys()),
        container.contact_key_ids(),
        settings.log_partitions,
    )
    mine = container.event_store()
    try:
        await asyncio.gather(
            *(
                (mine if index % 2 else other).append(_commit(f"cus_{index}", [registered(str(index))]), metadata())
                for index in range(40)
            )
        )
    finally:
        await other_client.close()
    positions = [event.position for event in await mine.read_log("biz_1", 0, 100)]
    assert positions == list(range(1, 41))


async def test_concurrent_commits_of_a_business_share_transactions_and_each_gets_its_own_position(container):
    store = container.event_store()
    positions = await asyncio.gather(
        *(store.append(_commit(f"cus_{index}", [registered(str(index))]), metadata()) for index in range(20))
    )
    assert sorted(positions) == list(range(1, 21))
    streams = {event.stream_id: event.position for event in await store.read_log("biz_1", 0, 100)}
    assert [streams[f"cus_{index}"] for index in range(20)] == positions


async def test_a_commit_that_fails_in_a_group_fails_alone(container):
    store = container.event_store()
    await store.append(_commit("cus_taken", [registered("A")]), metadata())

    def claim(customer_id: str, email: str) -> ContactKey:
        return ContactKey(business_id="biz_1", kind="email", value=email, customer_id=customer_id)

    outcomes = await asyncio.gather(
        store.append(_commit("cus_1", [registered("1")], claims=[claim("cus_1", "one@x.pt")]), metadata()),
        # Appends version 1 again: a conflict.
        store.append(_commit("cus_taken", [registered("again")]), metadata()),
        store.append(_commit("cus_2", [registered("2")], claims=[claim("cus_2", "one@x.pt")]), metadata()),
        store.append(_commit("cus_3", [registered("3")]), metadata()),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], VersionConflict)
    assert isinstance(outcomes[2], ContactAlreadyTaken) and outcomes[2].existing_customer_id == "cus_1"
    assert sorted([outcomes[0], outcomes[3]]) == [2, 3]
    assert [event.stream_id for event in await store.read_log("biz_1", 0, 100)] == ["cus_taken", "cus_1", "cus_3"]


async def test_loading_a_stream_range_returns_only_those_versions(container):
    store = container.event_store()
    await store.append(_commit("cus_a", [registered("1"), registered("2"), registered("3")]), metadata())
    loaded = await store.load_stream("biz_1", "cus_a", after_version=1, up_to_version=2)
    assert [event.version for event in loaded] == [2]
