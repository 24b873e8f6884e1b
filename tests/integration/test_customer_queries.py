"""List, search, filters, sorts and paging over HTTP, on the real servers."""

import pytest

from tests.inbound import Publisher, envelope, order_completed, order_placed, wait_until_processed
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def register(api, settings, **profile) -> tuple[dict, int]:
    response = await api.post(CUSTOMERS, json=profile, headers=bearer(settings))
    assert response.status_code == 201, response.text
    return response.json(), int(response.headers["x-position"])


async def listed(api, settings, path=CUSTOMERS, **params) -> dict:
    response = await api.get(path, params=params, headers=bearer(settings, roles=("viewer",)))
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict) -> list[str]:
    return [f"{item['first_name']} {item['last_name']}" for item in page["items"]]


@pytest.fixture
async def people(api, workers, settings):
    """Four customers, projected: read-your-writes through `min_position`."""
    position = 0
    for profile in (
        {
            "first_name": "Ána",
            "last_name": "Silva",
            "email": "ana.silva@example.com",
            "phone": "912345678",
            "tags": ["vip-2026"],
            "segment": "vip",
        },
        {"first_name": "João", "last_name": "Sousa", "email": "joao@correio.pt", "type": "regular"},
        {"first_name": "Anabela", "last_name": "Óscar", "phone": "+44 7911 123456"},
        {"first_name": "Rui", "last_name": "Almeida", "email": "rui@example.com"},
    ):
        _, position = await register(api, settings, **profile)
    return position


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ana sil", ["Ána Silva"]),
        ("SILVA ána", ["Ána Silva"]),
        ("ana", ["Anabela Óscar", "Ána Silva"]),
        ("osc", ["Anabela Óscar"]),
        ("ana.silva", ["Ána Silva"]),
        ("example", ["Rui Almeida", "Ána Silva"]),
        ("correio.pt", ["João Sousa"]),
        ("joao@corr", ["João Sousa"]),
        ("912 345", ["Ána Silva"]),
        ("+351912", ["Ána Silva"]),
        ("07911", ["Anabela Óscar"]),
        ("7911123456", ["Anabela Óscar"]),
        ("silvaa", []),
        ("lva", []),
    ],
)
async def test_search_matches_word_prefixes_whatever_the_case_and_accents(api, settings, people, q, expected):
    page = await listed(api, settings, q=q, min_position=people)
    assert names(page) == expected
    assert names(await listed(api, settings, f"{CUSTOMERS}/search", q=q)) == expected


async def test_filters_narrow_the_list(api, settings, people):
    await listed(api, settings, min_position=people)
    assert names(await listed(api, settings, type="regular")) == ["João Sousa"]
    assert names(await listed(api, settings, segment="vip")) == ["Ána Silva"]
    assert names(await listed(api, settings, tag="vip-2026")) == ["Ána Silva"]
    assert names(await listed(api, settings, tag="vip-2026", q="rui")) == []
    assert names(await listed(api, settings, status="deleted")) == []
    assert len((await listed(api, settings, status="active"))["items"]) == 4
    # None of them has bought anything: nobody repeats, everybody is in tier none.
    assert len((await listed(api, settings, is_repeat_customer="false"))["items"]) == 4
    assert names(await listed(api, settings, is_repeat_customer="true")) == []
    assert len((await listed(api, settings, frequency_tier="none"))["items"]) == 4
    assert names(await listed(api, settings, frequency_tier="regular")) == []
    assert (await listed(api, settings, f"{CUSTOMERS}/repeat")) == {"items": [], "next_cursor": None}


async def test_each_sort_orders_the_whole_list(api, settings, people):
    await listed(api, settings, min_position=people)
    by_last_name = ["Rui Almeida", "Anabela Óscar", "Ána Silva", "João Sousa"]
    assert names(await listed(api, settings, sort="last_name")) == by_last_name
    assert names(await listed(api, settings, sort="-last_name")) == by_last_name[::-1]
    newest_first = names(await listed(api, settings))
    assert newest_first == ["Rui Almeida", "Anabela Óscar", "João Sousa", "Ána Silva"]
    assert names(await listed(api, settings, sort="created_at")) == newest_first[::-1]
    for sort in ("last_purchase_at", "-last_purchase_at", "total_spent", "-total_spent"):
        assert sorted(names(await listed(api, settings, sort=sort))) == sorted(by_last_name), sort
    assert names(await listed(api, settings, q="ana", sort="last_name")) == ["Anabela Óscar", "Ána Silva"]


async def test_lists_see_the_purchases_of_the_order_messages(api, container, workers, settings):
    # Ana completes two orders and Bea one (a larger one); Carla registers and buys nothing.
    await register(api, settings, first_name="Carla", last_name="Costa")
    ana = {"first_name": "Ana", "last_name": "Alves", "email": "ana@example.com"}
    bea = {"first_name": "Bea", "last_name": "Borges", "email": "bea@example.com"}
    messages = []
    for order_id, person, amount_minor, day in (
        ("ord_1", ana, 4500, 20),
        ("ord_2", ana, 3000, 22),
        ("ord_3", bea, 9000, 21),
    ):
        completed_at = f"2026-11-{day}T11:30:00Z"
        messages += [
            envelope(
                "order.placed",
                order_placed(order_id, booker=person, attendees=[], total_amount_minor=amount_minor),
                "biz_1",
            ),
            envelope(
                "order.completed",
                order_completed(order_id, completed_at=completed_at, total_amount_minor=amount_minor),
                "biz_1",
            ),
        ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))
    # The order links' own streams are not projected: wait for the customers' last event.
    last = await container.database()["events"].find_one({"stream_id": {"$regex": "^cus_"}}, sort=[("position", -1)])
    await listed(api, settings, min_position=last["position"])

    assert names(await listed(api, settings, f"{CUSTOMERS}/repeat")) == ["Ana Alves"]
    assert names(await listed(api, settings, is_repeat_customer="false", sort="last_name")) == [
        "Bea Borges",
        "Carla Costa",
    ]
    assert names(await listed(api, settings, frequency_tier="occasional")) == ["Ana Alves"]
    assert names(await listed(api, settings, frequency_tier="one_time")) == ["Bea Borges"]
    assert names(await listed(api, settings, frequency_tier="none")) == ["Carla Costa"]
    # Lifetime value, not the number of purchases: Bea's 90.00 before Ana's 75.00.
    assert names(await listed(api, settings, sort="-total_spent")) == ["Bea Borges", "Ana Alves", "Carla Costa"]
    assert names(await listed(api, settings, sort="total_spent")) == ["Carla Costa", "Ana Alves", "Bea Borges"]
    assert names(await listed(api, settings, sort="-last_purchase_at")) == ["Ana Alves", "Bea Borges", "Carla Costa"]
    paged = await listed(api, settings, f"{CUSTOMERS}/repeat", limit=1, sort="-total_spent")
    assert (names(paged), paged["next_cursor"]) == (["Ana Alves"], None)


@pytest.mark.parametrize(("sort", "q"), [("-created_at", None), ("last_name", None), ("-last_name", "cliente")])
async def test_pages_have_no_duplicates_and_no_gaps_while_customers_are_added(api, workers, settings, sort, q):
    originals = set()
    position = 0
    for index in range(9):
        customer, position = await register(api, settings, first_name="Cliente", last_name=f"N{index:02d}")
        originals.add(customer["id"])
    seen: list[str] = []
    params = {"limit": 4, "sort": sort, "min_position": position, **({"q": q} if q else {})}
    for round_number in range(10):
        page = await listed(api, settings, **params)
        seen.extend(item["id"] for item in page["items"])
        # Writers keep adding customers on both sides of the page boundary.
        for suffix in ("A", "Z"):
            _, position = await register(api, settings, first_name="Cliente", last_name=f"{suffix}{round_number}")
        if page["next_cursor"] is None:
            break
        params = {
            "limit": 4,
            "sort": sort,
            "cursor": page["next_cursor"],
            "min_position": position,
            **({"q": q} if q else {}),
        }
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"cursor": "eyJ2IjoxfQ"}, 400, "cursor"),
        ({"sort": "first_name"}, 422, "sort"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 101}, 422, "limit"),
        ({"limit": "ten"}, 422, "limit"),
        ({"type": "vip"}, 422, "type"),
        ({"status": "gone"}, 422, "status"),
        ({"is_repeat_customer": "maybe"}, 422, "is_repeat_customer"),
        ({"frequency_tier": "often"}, 422, "frequency_tier"),
        ({"min_position": 0}, 422, "min_position"),
        ({"min_position": 10**9}, 422, "min_position"),
    ],
)
async def test_bad_list_input_is_a_client_problem_naming_the_parameter(api, workers, settings, params, status, field):
    response = await api.get(CUSTOMERS, params=params, headers=bearer(settings, roles=("viewer",)))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json().get("errors", [])], response.text


async def test_a_cursor_only_continues_the_query_that_made_it(api, settings, people):
    page = await listed(api, settings, limit=1, min_position=people)
    assert page["next_cursor"]
    for other in ({"sort": "last_name"}, {"q": "ana"}, {"segment": "vip"}):
        response = await api.get(
            CUSTOMERS, params={"limit": 1, "cursor": page["next_cursor"], **other}, headers=bearer(settings)
        )
        assert response.status_code == 400, other
    following = await listed(api, settings, limit=1, cursor=page["next_cursor"])
    assert following["items"][0]["id"] != page["items"][0]["id"]


async def test_search_without_text_is_a_validation_problem(api, settings):
    response = await api.get(f"{CUSTOMERS}/search", headers=bearer(settings))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "q"


async def test_another_business_lists_nothing_of_this_one(api, settings, people):
    await listed(api, settings, min_position=people)
    other = bearer(settings, business_ids=("biz_2",))
    assert (await api.get(CUSTOMERS, headers=other)).status_code == 404
    response = await api.get("/api/v1/businesses/biz_2/customers", headers=other)
    assert response.json() == {"items": [], "next_cursor": None}
    assert (await api.get(CUSTOMERS, headers={})).status_code == 401


async def test_min_position_waits_for_the_projector(api, workers, settings):
    # Asked right after the write: without the wait the projector would usually not be there yet.
    created, position = await register(api, settings, first_name="Marta", last_name="Reis")
    page = await listed(api, settings, q="marta", min_position=position)
    assert [item["id"] for item in page["items"]] == [created["id"]]
