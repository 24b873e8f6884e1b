"""Every shape of list query reads a bounded range of its index: `explain` on the real server
counts the documents each page examines, and the pages give exactly the customers the
filter asks for, in order, once each, even while customers are added between pages."""

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from application.customer_filters import CustomerFilter
from application.ports import CustomerListCriteria, ListPosition, ViewChange
from application.projections.customer_query_fields import KEY_CEILING, SortField, sort_keys_of
from domain.customer.consents import ConsentEntry
from domain.customer.metrics import PurchaseMetrics, Spend
from domain.customer.profile import CustomerSegment, CustomerType
from domain.customer.state import CustomerState
from infrastructure.mongo.customer_listing import PLAIN_LIST, MongoCustomerListing
from infrastructure.mongo.documents import ListFences
from infrastructure.mongo.list_fences import Fences, ListFenceStore

pytestmark = pytest.mark.integration
LIMIT = 20
CUSTOMERS = 1200
START = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ["Silva", "Santos", "Costa", "Pereira", "Oliveira", "Martins", "Sousa", "Ferreira", "Alves", "Ribeiro"]


def customer(index: int, rng: random.Random) -> CustomerState:
    purchases = rng.choice([0, 0, 0, 1, 2, 3, 5, 12])
    last_purchase = START + timedelta(days=rng.randint(1, 300)) if purchases else None
    return CustomerState(
        id=f"cus_{index:05d}", business_id="biz_1", first_name=rng.choice(["Ana", "Rui", "Zoe", "Inês"]),
        last_name=f"{rng.choice(NAMES)}{rng.randint(0, 9)}", email=f"person{index}@example.com",
        type=rng.choice(list(CustomerType)), segment=rng.choice(list(CustomerSegment)),
        tags=("vip",) if index % 10 == 0 else (), attributes={"card": rng.choice(["gold", "silver"])},
        consent_log=(ConsentEntry(purpose="marketing_email", granted=index % 3 == 0, at=START),),
        metrics=PurchaseMetrics(
            total_purchases=purchases, last_purchase_at=last_purchase, is_repeat_customer=purchases >= 2,
            spend={"EUR": Spend(lifetime_value_minor=purchases * rng.randint(500, 5000))} if purchases else {},
        ),
        # An import: every customer created within one hour.
        version=1, created_at=START + timedelta(seconds=index * 3), updated_at=START,
    )  # fmt: skip


class FindCommands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.finds: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.finds.append({"find": event.command["find"], "filter": event.command["filter"]})

    def succeeded(self, event) -> None: ...

    def failed(self, event) -> None: ...


@pytest.fixture
async def seeded(container, settings):
    rng = random.Random(7)
    states = [customer(index, rng) for index in range(CUSTOMERS)]
    views = container.customer_views()
    for start in range(0, CUSTOMERS, 200):
        await views.save_many({state.id: ViewChange(None, state) for state in states[start : start + 200]})
    listener = FindCommands()
    client = AsyncMongoClient(settings.mongodb_url, tz_aware=True, event_listeners=[listener])
    database = client[settings.mongodb_database]
    listing = MongoCustomerListing(database, ListFenceStore(database, container.clock()))
    yield states, listing, listener, database
    await client.close()


SHAPES = [
    ({}, "-created_at", "list_by_created_at"),
    ({}, "created_at", "list_by_created_at"),
    ({}, "last_name", "list_by_last_name"),
    ({}, "-last_name", "list_by_last_name"),
    ({}, "-last_purchase_at", "list_by_last_purchase_at"),
    ({}, "total_spent", "list_by_total_spent"),
    ({"type": "regular"}, "-created_at", "facets_by_created_at"),
    ({"segment": "vip"}, "last_name", "facets_by_last_name"),
    ({"tag": "vip"}, "-total_spent", "facets_by_total_spent"),
    ({"is_repeat_customer": True}, "-last_purchase_at", "facets_by_last_purchase_at"),
    ({"frequency_tier": "frequent"}, "created_at", "facets_by_created_at"),
    ({"consent": ("marketing_email",)}, "-created_at", "facets_by_created_at"),
    ({"contactable": True}, "last_name", "facets_by_last_name"),
    ({"attributes": {"card": "gold"}}, "-created_at", "facets_by_created_at"),
    ({"q": "ana"}, "-created_at", "terms_by_created_at"),
    ({"q": "silva"}, "last_name", "terms_by_last_name"),
    ({"q": "person1"}, "-created_at", "terms_by_created_at"),
    ({"created_after": START + timedelta(minutes=30)}, "created_at", "list_by_created_at"),
    ({"last_purchase_after": START + timedelta(days=100)}, "-last_purchase_at", "list_by_last_purchase_at"),
    # Filters no single index holds: read through one, checked on the states (budgeted).
    ({"min_purchases": 2, "currency": "EUR", "min_total_spent": 1000}, "-created_at", "list_by_created_at"),
    ({"q": "ana", "tag": "vip"}, "-total_spent", "facets_by_total_spent"),
]


async def all_pages(listing, filter_: CustomerFilter, sort: str, between_pages=None):
    field, descending = SortField(sort.removeprefix("-")), sort.startswith("-")
    found, after, pages = [], None, 0
    while True:
        page = await listing.page(CustomerListCriteria("biz_1", filter_, field, descending, after, LIMIT))
        found += [state.id for state in page.customers]
        pages += 1
        assert len(page.customers) <= LIMIT
        if page.next is None:
            return found, pages
        after = page.next
        if between_pages is not None:
            await between_pages(pages)


def expected(states, filter_: CustomerFilter, sort: str) -> list[str]:
    field = SortField(sort.removeprefix("-"))
    matching = [state for state in states if filter_.matches(state)]
    matching.sort(key=lambda state: sort_keys_of(state)[field], reverse=sort.startswith("-"))
    return [state.id for state in matching]


@pytest.mark.parametrize(("filters", "sort", "index"), SHAPES)
async def test_every_shape_pages_exactly_and_examines_a_bounded_range_of_its_index(seeded, filters, sort, index):
    states, listing, listener, database = seeded
    filter_ = CustomerFilter(**filters)
    # The first pass reads each range once (keys only) and leaves fences; the second is timed.
    first, _ = await all_pages(listing, filter_, sort)
    assert first == expected(states, filter_, sort)
    field, descending = SortField(sort.removeprefix("-")), sort.startswith("-")
    after, examined = None, []
    for _ in range(3):
        listener.finds.clear()
        page = await listing.page(CustomerListCriteria("biz_1", filter_, field, descending, after, LIMIT))
        total = 0
        for find in listener.finds:
            explained = await database.command({"explain": find, "verbosity": "executionStats"})
            total += explained["executionStats"]["totalDocsExamined"]
            # A page's range reads use the list's index; the views by `_id`, and a fence
            # document re-read once its cache has aged (a slow machine), by `_id` too.
            by_id = find["find"] in ("customer_details", ListFences.Settings.name) and "_id" in find["filter"]
            if not by_id:
                assert _index_used(explained) == index
        examined.append(total)
        if page.next is None:
            break
        after = page.next
    assert max(examined) <= 5 * LIMIT, examined


async def test_pages_neither_skip_nor_repeat_while_customers_are_added(seeded, container):
    states, listing, _, _ = seeded
    views = container.customer_views()
    rng = random.Random(11)
    added = []

    async def add_some(page: int) -> None:
        newcomers = [customer(CUSTOMERS + len(added) + index, rng) for index in range(10)]
        added.extend(newcomers)
        await views.save_many({state.id: ViewChange(None, state) for state in newcomers})

    for sort in ("-created_at", "last_name"):
        found, _ = await all_pages(listing, CustomerFilter(), sort, between_pages=add_some)
        assert len(found) == len(set(found))
        assert set(found) >= {state.id for state in states}


@pytest.mark.parametrize(
    ("filters", "sort", "finds"),
    [({}, "-created_at", 1), ({"segment": "vip"}, "last_name", 1), ({"q": "ana"}, "-created_at", 2)],
)
async def test_a_list_page_is_one_query_and_a_search_page_two(seeded, filters, sort, finds):
    # A range of the list brings its customers along; a search range brings keys, then the
    # customers are read by id. Pages 2 and 3, once the first read has left fences.
    states, listing, listener, _ = seeded
    filter_ = CustomerFilter(**filters)
    field, descending = SortField(sort.removeprefix("-")), sort.startswith("-")
    first = await listing.page(CustomerListCriteria("biz_1", filter_, field, descending, None, LIMIT))
    after, found = first.next, [state.id for state in first.customers]
    for _ in range(2):
        listener.finds.clear()
        page = await listing.page(CustomerListCriteria("biz_1", filter_, field, descending, after, LIMIT))
        found += [state.id for state in page.customers]
        assert len(page.customers) == LIMIT
        assert [find["find"] for find in listener.finds if find["find"] != ListFences.Settings.name] == [
            "customer_details" if finds == 1 else "customer_search",
            *(["customer_details"] if finds == 2 else []),
        ]
        after = page.next
    assert found == expected(states, filter_, sort)[: 3 * LIMIT]


@pytest.mark.parametrize(
    ("filters", "sort"),
    [({"type": "regular"}, "-created_at"), ({"tag": "vip"}, "last_name"), ({"q": "ana"}, "-created_at"),
     ({"tag": "nobody"}, "-created_at")],
)  # fmt: skip
async def test_a_filter_first_read_borrows_the_lists_fences_instead_of_reading_its_range_whole(seeded, filters, sort):
    states, listing, listener, database = seeded
    field, descending = SortField(sort.removeprefix("-")), sort.startswith("-")
    await listing.page(
        CustomerListCriteria("biz_1", CustomerFilter(), field, descending, None, LIMIT)
    )  # the list's fences
    filter_ = CustomerFilter(**filters)

    async def walk() -> tuple[list[str], list[int]]:
        found, after, examined = [], None, []
        while True:
            listener.finds.clear()
            page = await listing.page(CustomerListCriteria("biz_1", filter_, field, descending, after, LIMIT))
            found += [state.id for state in page.customers]
            total = 0
            for find in listener.finds:
                explained = await database.command({"explain": find, "verbosity": "executionStats"})
                total += explained["executionStats"]["totalDocsExamined"]
            examined.append(total)
            if page.next is None:
                return found, examined
            after = page.next

    found, examined = await walk()
    assert found == expected(states, filter_, sort)
    # Every page, the first included, reads spans bounded by the list's fences: a whole
    # range read would examine every matching entry (hundreds) at once. Spans are sized by
    # the list's counts times the share found so far, an estimate: a little past the
    # budget is possible (104 for the search, whose entries are read twice).
    assert max(examined) <= 6 * LIMIT, examined
    # A page is full but for the last (or, for no match at all, a few empty ones).
    assert len(examined) <= max(3, -(-len(found) // LIMIT) + 1), examined
    # Walked again, on the fences the first walk laid (its own counts where it read, the
    # list's scaled by the share it found elsewhere): within the budget.
    again, examined = await walk()
    assert again == found
    assert max(examined) <= 5 * LIMIT, examined


async def test_concurrent_first_pages_of_a_range_read_it_whole_once(seeded):
    """The first page of a range with no fences reads the range whole to lay them; pages of
    the same range asked meanwhile wait for those fences instead of each reading it again.
    The listing's client is new, so its first reads also wait for connections, in turns."""
    states, listing, listener, _ = seeded
    listener.finds.clear()
    criteria = CustomerListCriteria("biz_1", CustomerFilter(), SortField.LAST_NAME, False, None, LIMIT)
    pages = await asyncio.gather(*(listing.page(criteria) for _ in range(8)))
    first_page = expected(states, CustomerFilter(), "last_name")[:LIMIT]
    assert all([state.id for state in page.customers] == first_page for page in pages)
    whole = [
        find for find in listener.finds if find["filter"].get("sort.last_name") == {"$gte": "", "$lte": KEY_CEILING}
    ]
    assert len(whole) == 1, whole


async def test_fences_saved_while_a_load_is_on_its_way_are_not_undone_by_it(seeded, container):
    """A load that read the store before a page of this process saved fences returns the
    saved ones: else the pages waiting for them would read the range whole again."""
    _, _, _, database = seeded
    store = ListFenceStore(database, container.clock())
    loading = asyncio.create_task(store.load("biz_1|active|views|*|email"))
    await asyncio.sleep(0)  # the load has missed the cache and asked the server
    laid = Fences(["b", "m"], [40, 40, 40], known=True)
    await store.save("biz_1|active|views|*|email", laid)
    assert (await loading) is laid
    assert await store.load("biz_1|active|views|*|email") is laid


async def test_a_cursor_at_a_fence_continues_from_it(seeded):
    _, listing, _, _ = seeded
    criteria = CustomerListCriteria("biz_1", CustomerFilter(), SortField.CREATED_AT, False, None, LIMIT)
    await listing.page(criteria)  # leaves fences
    fences = await listing._fences.load(MongoCustomerListing.fence_id(criteria, PLAIN_LIST))
    fence = fences.keys[3]
    page = await listing.page(
        CustomerListCriteria("biz_1", CustomerFilter(), SortField.CREATED_AT, False, ListPosition(fence, True), LIMIT)
    )
    assert sort_keys_of(page.customers[0])[SortField.CREATED_AT] == fence


def _index_used(explained: dict) -> str | None:
    stage = explained["queryPlanner"]["winningPlan"]
    while stage:
        if stage.get("stage") == "IXSCAN":
            return stage.get("indexName")
        stage = stage.get("inputStage")
    return None
