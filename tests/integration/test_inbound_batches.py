"""A batch of inbound messages is decided concurrently: the commits share the event store's
group commits, and messages about the same person still all land on one customer."""

import asyncio
import json

import pytest

from application.integration.shared_reads import SharedHolderReads
from infrastructure.messaging.inbound_codec import decode_inbound
from infrastructure.observability.metrics import MONGODB_COMMANDS
from tests.inbound import BUSINESS, customer_events, envelope, holder_of, order_placed

pytestmark = pytest.mark.integration


def decoded(message: dict):
    return decode_inbound(json.dumps(message).encode())


def commands(name: str) -> float:
    return MONGODB_COMMANDS.labels(name)._value.get()


def placed_by(index: int, email: str) -> dict:
    booker = {"email": email, "first_name": f"Ana{index}"}
    return envelope("order.placed", order_placed(f"ord_{index}", booker=booker, attendees=[booker]))


async def test_new_customers_of_one_batch_share_transactions(container):
    messages = [placed_by(index, f"person{index}@example.com") for index in range(40)]
    transactions, finds = commands("commitTransaction"), commands("find")
    applied = await container.process_inbound_messages().execute([decoded(message) for message in messages])
    transactions, finds = commands("commitTransaction") - transactions, commands("find") - finds

    assert applied == 40
    assert await container.database()["processed_messages"].count_documents({}) == 40
    assert len(await customer_events(container, "CustomerRegistered")) == 40
    assert transactions <= 20  # one a message, sequentially
    assert finds <= 20  # each message read its order's link and its contacts' holders: two each, alone


async def test_one_person_in_many_messages_of_a_batch_is_one_customer(container):
    messages = [placed_by(index, "ana.silva@example.com") for index in range(12)]
    batch = [decoded(message) for message in messages]
    applied = await container.process_inbound_messages().execute([*batch, batch[0]])  # one delivered twice

    assert applied == 12
    ana = await holder_of(container, "email", "ana.silva@example.com")
    assert len(await customer_events(container, "CustomerRegistered")) == 1
    linked = await customer_events(container, "OrderLinked")
    assert {event["stream_id"] for event in linked} == {ana}
    assert sorted(event["payload"]["order_id"] for event in linked) == sorted(f"ord_{index}" for index in range(12))
    assert [event["payload"]["first_time"] for event in linked].count(True) == 1


async def test_one_person_written_differently_in_a_batch_still_becomes_one_customer(container):
    # Phones written three ways: no chain joins them, so they are decided at once and
    # meet in the event store, which makes all but one decide again.
    formats = ["912 345 678", "00351 912-345-678", "+351912345678"]
    messages = [
        envelope("order.placed", order_placed(f"ord_{index}", booker=None, attendees=[{"phone": phone}]))
        for index, phone in enumerate(formats * 3)
    ]
    applied = await container.process_inbound_messages().execute([decoded(message) for message in messages])

    assert applied == 9
    assert len(await customer_events(container, "CustomerRegistered")) == 1
    linked = await customer_events(container, "OrderLinked")
    assert len({event["stream_id"] for event in linked}) == 1
    assert sorted(event["payload"]["order_id"] for event in linked) == sorted(f"ord_{index}" for index in range(9))


async def test_concurrent_holder_reads_go_together_and_each_gets_its_own_answer(container):
    ana = placed_by(1, "ana@example.com")
    await container.process_inbound_messages().execute([decoded(ana)])
    ana_id = await holder_of(container, "email", "ana@example.com")
    shared = SharedHolderReads(container.contact_key_holders())

    answers = await asyncio.gather(
        *(shared.holders(BUSINESS, [("email", f"person{index}@example.com")]) for index in range(10)),
        shared.holders(BUSINESS, [("email", "ana@example.com"), ("email", "nobody@example.com")]),
        shared.holder("biz_other", "email", "ana@example.com"),
    )

    assert answers[:10] == [{}] * 10
    assert answers[10] == {("email", "ana@example.com"): ana_id}
    assert answers[11] is None  # another business: its own read, nobody there
    # Asked at the same moment: one read per business for all twelve.
    assert shared.reads == 2
    # Asked while a read runs: the next read serves them all.
    first = asyncio.create_task(shared.holders(BUSINESS, [("email", "ana@example.com")]))
    await asyncio.sleep(0)  # the first read is under way
    later = await asyncio.gather(*(shared.holder(BUSINESS, "email", "ana@example.com") for _ in range(5)))
    assert await first == {("email", "ana@example.com"): ana_id}
    assert later == [ana_id] * 5
    assert shared.reads == 4


async def test_streams_load_together_in_version_order(container):
    messages = [placed_by(index, f"person{index}@example.com") for index in range(3)]
    await container.process_inbound_messages().execute([decoded(message) for message in messages])
    links = [f"order:{BUSINESS}:ord_{index}" for index in range(3)]

    loaded = await container.event_store().load_streams(BUSINESS, [*links, f"order:{BUSINESS}:ord_none"])

    assert set(loaded) == set(links)
    for link in links:
        assert loaded[link] == await container.event_store().load_stream(BUSINESS, link)
        assert [event.version for event in loaded[link]] == list(range(1, len(loaded[link]) + 1))
    assert await container.event_store().load_streams("biz_other", links) == {}
