"""`GET /access-log` (contract v1.1, admin): newest first, filtered, paged with a signed cursor."""

import asyncio

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
BUSINESS = "/api/v1/businesses/biz_1"
ACCESS_LOG = f"{BUSINESS}/access-log"


def admin(settings, **claims) -> dict:
    return bearer(settings, **{"roles": ("admin",), "subject": "dpo", **claims})


async def reads_by_two_actors(api, settings) -> tuple[str, str]:
    """Ana read by clerk twice and by auditor once; Rui read by clerk once: 4 entries."""
    ids = []
    for body in ({"first_name": "Ana"}, {"first_name": "Rui"}):
        created = await api.post(f"{BUSINESS}/customers", json=body, headers=bearer(settings))
        assert created.status_code == 201
        ids.append(created.json()["id"])
    ana, rui = ids
    for customer_id, actor in ((ana, "clerk"), (rui, "clerk"), (ana, "auditor"), (ana, "clerk")):
        response = await api.get(
            f"{BUSINESS}/customers/{customer_id}?min_version=1",
            headers=bearer(settings, roles=("viewer",), subject=actor),
        )
        assert response.status_code == 200, response.text
    return ana, rui


async def entries(api, settings, count: int, **params) -> list[dict]:
    """The log once `count` entries are shipped (the API ships its spool a few times a second)."""
    for _ in range(100):
        response = await api.get(ACCESS_LOG, params={"limit": 100, **params}, headers=admin(settings))
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) >= count:
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"the access log never had {count} entries")


async def test_the_log_is_newest_first_and_filters_combine(api, workers, settings):
    ana, rui = await reads_by_two_actors(api, settings)
    everything = await entries(api, settings, 4)
    assert [(entry["action"], entry["actor"]) for entry in everything] == [
        ("read", "clerk"),
        ("read", "auditor"),
        ("read", "clerk"),
        ("read", "clerk"),
    ]
    assert [entry["at"] for entry in everything] == sorted((entry["at"] for entry in everything), reverse=True)
    assert [entry["customer_ids"] for entry in everything] == [[ana], [ana], [rui], [ana]]

    about_ana = await entries(api, settings, 3, customer_id=ana)
    assert len(about_ana) == 3 and all(entry["customer_ids"] == [ana] for entry in about_ana)
    clerk_on_ana = await entries(api, settings, 2, customer_id=ana, actor="clerk")
    assert [entry["id"] for entry in clerk_on_ana] == [everything[0]["id"], everything[3]["id"]]
    # after/before are exclusive: the window strictly between the oldest and the newest entry.
    between = await entries(api, settings, 2, after=everything[-1]["at"], before=everything[0]["at"])
    assert [entry["id"] for entry in between] == [everything[1]["id"], everything[2]["id"]]
    assert (await api.get(ACCESS_LOG, params={"actor": "nobody"}, headers=admin(settings))).json() == {
        "items": [],
        "next_cursor": None,
    }


async def test_pages_follow_the_signed_cursor_without_gaps_or_repeats(api, workers, settings):
    await reads_by_two_actors(api, settings)
    everything = await entries(api, settings, 4)
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await api.get(ACCESS_LOG, params=params, headers=admin(settings))).json()
        seen += [entry["id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [entry["id"] for entry in everything]
    # A cursor belongs to its query: with another filter it is refused.
    cursor = (await api.get(ACCESS_LOG, params={"limit": 1}, headers=admin(settings))).json()["next_cursor"]
    refused = await api.get(ACCESS_LOG, params={"cursor": cursor, "actor": "clerk"}, headers=admin(settings))
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"after": "soon"}, {"before": "2026-11-23T10:00:00"}, {"cursor": "forged.x"}],
)
async def test_bad_parameters_are_clear_4xx_problems(api, settings, params):
    response = await api.get(ACCESS_LOG, params=params, headers=admin(settings))
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_only_admins_of_the_business_read_it(api, workers, settings):
    await reads_by_two_actors(api, settings)
    await entries(api, settings, 4)
    for role in ("viewer", "staff", "manager"):
        assert (await api.get(ACCESS_LOG, headers=bearer(settings, roles=(role,)))).status_code == 403
    assert (await api.get(ACCESS_LOG)).status_code == 401
    other = await api.get(ACCESS_LOG, headers=admin(settings, business_ids=("biz_2",)))
    assert other.status_code == 404
    own = await api.get("/api/v1/businesses/biz_2/access-log", headers=admin(settings, business_ids=("biz_2",)))
    assert own.status_code == 200 and own.json()["items"] == []


async def test_bounds_at_the_ends_of_time_page_to_the_end_without_error(api, workers, settings):
    await reads_by_two_actors(api, settings)
    everything = await entries(api, settings, 4)
    params = {"after": "0001-01-01T00:00:00+14:00", "before": "9999-12-31T23:59:59-14:00", "limit": 100}
    seen, cursor = [], None
    for _ in range(20):
        page = await api.get(
            ACCESS_LOG, params={**params, **({"cursor": cursor} if cursor else {})}, headers=admin(settings)
        )
        assert page.status_code == 200, page.text
        seen += [entry["id"] for entry in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert seen == [entry["id"] for entry in everything]
    reversed_bounds = await api.get(
        ACCESS_LOG, params={"after": params["before"], "before": params["after"]}, headers=admin(settings)
    )
    assert reversed_bounds.json() == {"items": [], "next_cursor": None}
