"""An inbound order reads who holds its people's emails and phones once, for all of them.

Matching each person by email, then by phone, then checking which of their contact data
the match may take, read one contact key at a time: up to two reads a person, more for a
match missing a phone. Now one read of every key the message names, on the real server.
"""

import json

import pytest
from dependency_injector import providers

from infrastructure.messaging.inbound_codec import decode_inbound
from infrastructure.mongo.command_support import MongoContactKeyHolders
from tests.inbound import BUSINESS, envelope, order_placed

pytestmark = pytest.mark.integration


class CountedHolders(MongoContactKeyHolders):
    """The real contact keys, counting the reads."""

    reads = 0

    async def holder(self, business_id, kind, value):
        CountedHolders.reads += 1
        return await super().holder(business_id, kind, value)

    async def holders(self, business_id, keys):
        CountedHolders.reads += 1
        return await super().holders(business_id, keys)


async def test_one_read_of_contact_keys_for_every_person_of_an_order(container):
    container.contact_key_holders.override(
        providers.Singleton(CountedHolders, container.database, container.contact_key_ids)
    )
    people = {
        "booker": {"email": "ana.silva@example.com", "phone": "912345678", "first_name": "Ana"},
        "attendees": [
            {"first_name": "Rui", "email": "rui@example.com", "phone": "912345679"},
            {"first_name": "Eva", "email": "eva@example.com", "phone": "912345670"},
        ],
    }
    inbox = container.process_inbound_messages()

    CountedHolders.reads = 0
    first = envelope("order.placed", order_placed("ord_1", **people))
    assert await inbox.execute([decode_inbound(json.dumps(first).encode())]) == 1
    assert CountedHolders.reads == 1

    # The same people again: each is matched now, still in one read.
    CountedHolders.reads = 0
    second = envelope("order.placed", order_placed("ord_2", **people))
    assert await inbox.execute([decode_inbound(json.dumps(second).encode())]) == 1
    assert CountedHolders.reads == 1

    holders = container.contact_key_holders()
    ana = await holders.holder(BUSINESS, "email", "ana.silva@example.com")
    assert ana is not None
    assert await holders.holder(BUSINESS, "phone", "+351912345678") == ana
    stream = await container.event_store().load_stream(BUSINESS, ana)
    assert [type(recorded.event).__name__ for recorded in stream].count("OrderLinked") == 2
