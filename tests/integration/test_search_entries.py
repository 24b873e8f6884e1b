"""Search entries are written outside the views' transaction, guarded by the version of
the view they were made from: a projector that applies an older batch late (it lost its
partition meanwhile) never puts an old name back into search."""

from datetime import UTC, datetime

import pytest

from application.errors import VersionConflict
from application.ports import ViewChange
from domain.customer.profile import CustomerSegment, CustomerType
from domain.customer.state import CustomerState
from infrastructure.mongo.customer_views import MongoCustomerViewStore
from infrastructure.mongo.documents import CustomerSearchEntry

pytestmark = pytest.mark.integration


def state(version: int, last_name: str) -> CustomerState:
    now = datetime.now(UTC)
    return CustomerState(
        id="cus_search_guard",
        business_id="biz_guard",
        last_name=last_name,
        type=CustomerType.UNREGISTERED,
        segment=CustomerSegment.WALK_IN,
        version=version,
        created_at=now,
        updated_at=now,
    )


async def test_a_late_batch_from_an_older_view_changes_no_search_entry(container):
    database = container.database()
    late, current = MongoCustomerViewStore(database), MongoCustomerViewStore(database)
    first = state(1, "Alves")
    await current.get_many([first.id])
    await current.save_many({first.id: ViewChange(None, first)})

    # Both read version 1; the current holder moves on to 3 first.
    assert (await late.get_many([first.id]))[first.id].version == 1
    await current.get_many([first.id])
    await current.save_many({first.id: ViewChange(first, state(3, "Costa"))})
    with pytest.raises(VersionConflict):
        await late.save_many({first.id: ViewChange(first, state(2, "Brito"))})

    entry = await database[CustomerSearchEntry.Settings.name].find_one({"_id": first.id})
    assert entry["view_version"] == 3
    assert "costa" in entry["words"] and "brito" not in entry["words"]
    view = await current.get("biz_guard", first.id)
    assert (view.version, view.last_name) == (3, "Costa")


async def test_an_entry_written_before_entries_carried_versions_is_replaced(container):
    database = container.database()
    views = MongoCustomerViewStore(database)
    first = state(1, "Alves")
    await views.get_many([first.id])
    await views.save_many({first.id: ViewChange(None, first)})
    entries = database[CustomerSearchEntry.Settings.name]
    await entries.update_one({"_id": first.id}, {"$unset": {"view_version": ""}, "$set": {"words": ["old"]}})

    await views.get_many([first.id])
    await views.save_many({first.id: ViewChange(first, state(2, "Costa"))})
    entry = await entries.find_one({"_id": first.id})
    assert entry["view_version"] == 2
    assert "costa" in entry["words"]


async def test_a_new_customers_entry_left_by_an_earlier_attempt_is_replaced_by_the_newer_one(container):
    """A new customer's entry is inserted; one already there (a batch applied again after a
    crash between the entry and the view) goes the guarded way instead."""
    database = container.database()
    entries = database[CustomerSearchEntry.Settings.name]
    first = state(1, "Alves")
    await entries.insert_one({"_id": first.id, "business_id": "biz_guard", "words": ["old"], "view_version": 0})
    views = MongoCustomerViewStore(database)
    await views.get_many([first.id])
    await views.save_many({first.id: ViewChange(None, first)})

    entry = await entries.find_one({"_id": first.id})
    assert entry["view_version"] == 1
    assert "alves" in entry["words"] and "old" not in entry["words"]
    assert (await views.get("biz_guard", first.id)).version == 1
