"""Every shape of list query is read through an index: `explain` on the real server."""

from datetime import UTC, datetime, timedelta

import pytest

from application.ports import CustomerListCriteria
from application.projections.customer_query_fields import SortField, facet_key, search_key
from domain.customer.aggregate import CustomerState
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType

pytestmark = pytest.mark.integration


def winning_stages(explained: dict) -> list[tuple[str, str | None]]:
    stage, stages = explained["queryPlanner"]["winningPlan"], []
    while stage:
        stages.append((stage["stage"], stage.get("indexName")))
        stage = stage.get("inputStage")
    return stages


@pytest.fixture
async def seeded(container):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    states = {
        f"cus_{index:03d}": (0, CustomerState(
            id=f"cus_{index:03d}", business_id="biz_1", first_name="Ana", last_name=f"Silva{index}",
            type=CustomerType.NEW, segment=CustomerSegment.WALK_IN, tags=("vip",) if index % 2 else (),
            version=1, created_at=start + timedelta(hours=index), updated_at=start + timedelta(hours=index),
        ))
        for index in range(30)
    }  # fmt: skip
    await container.customer_views().save_many(states)
    return container


@pytest.mark.parametrize(
    ("keys", "sort", "index"),
    [
        ((), SortField.CREATED_AT, "list_by_created_at"),
        ((), SortField.LAST_NAME, "list_by_last_name"),
        ((), SortField.LAST_PURCHASE_AT, "list_by_last_purchase_at"),
        ((), SortField.TOTAL_SPENT, "list_by_total_spent"),
        ((search_key("ana"),), SortField.CREATED_AT, "lookup_by_created_at"),
        ((search_key("ana"), facet_key("tag", "vip")), SortField.LAST_NAME, "lookup_by_created_at"),
        ((facet_key("repeat", True),), SortField.TOTAL_SPENT, "lookup_by_created_at"),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("after_key", [None, "00000001767225600000000\x01cus_005"])
async def test_each_list_query_shape_uses_its_index(seeded, keys, sort, index, descending, after_key):
    criteria = CustomerListCriteria(
        business_id="biz_1", status=CustomerStatus.ACTIVE, required_keys=keys, long_terms=(),
        sort=sort, descending=descending, after_key=after_key, limit=21,
    )  # fmt: skip
    listing = seeded.customer_listing()
    filter_, order = next(listing.reads(criteria))
    explained = await seeded.database().command(
        {"explain": {"find": "customer_details", "filter": filter_, "sort": dict(order), "limit": 21}}
    )
    stages = winning_stages(explained)
    assert ("IXSCAN", index) in stages, stages
    assert all(stage != "COLLSCAN" for stage, _ in stages)


async def test_the_windowed_reads_return_the_same_page_as_one_sort(seeded):
    listing = seeded.customer_listing()
    for descending in (False, True):
        criteria = CustomerListCriteria(
            business_id="biz_1", status=CustomerStatus.ACTIVE, required_keys=(), long_terms=(),
            sort=SortField.CREATED_AT, descending=descending, after_key=None, limit=30,
        )  # fmt: skip
        found = [listed.state.id for listed in await listing.find(criteria)]
        expected = [f"cus_{index:03d}" for index in range(30)]
        assert found == (expected[::-1] if descending else expected)
