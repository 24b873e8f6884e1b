"""Segments on the real servers: saved filters with exact counts as customers change."""

import asyncio

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
BASE = "/api/v1/businesses/biz_1"
CUSTOMERS = f"{BASE}/customers"
SEGMENTS = f"{BASE}/segments"


def manager(settings):
    return bearer(settings, roles=("manager",))


async def register(api, settings, **profile) -> tuple[dict, int]:
    created = await api.post(CUSTOMERS, json=profile, headers=bearer(settings))
    assert created.status_code == 201, created.text
    return created.json(), int(created.headers["x-position"])


async def count_of(api, settings, segment_id: str, expected: int, seconds: float = 20.0) -> dict:
    """The segment once its count is complete and equals `expected` (counts move with the projector)."""
    body: dict = {}
    for _ in range(int(seconds / 0.1)):
        response = await api.get(f"{SEGMENTS}/{segment_id}", headers=bearer(settings))
        assert response.status_code == 200, response.text
        body = response.json()
        if body["count_complete"] and body["count"] == expected:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"segment count is {body}, expected {expected}")


async def test_a_segment_counts_its_customers_exactly_as_they_come_change_and_go(api, workers, settings):
    # Customers before the segment: counted in the background.
    vip, _ = await register(api, settings, first_name="Ana", tags=["vip"])
    await register(api, settings, first_name="Rui")
    defined = await api.post(
        SEGMENTS, json={"name": "  VIPs  ", "filter": {"tag": "vip", "status": "active"}}, headers=manager(settings)
    )
    assert defined.status_code == 201, defined.text
    segment = defined.json()
    assert (segment["name"], segment["filter"]) == ("VIPs", {"tag": "vip"})
    assert defined.headers["location"].endswith(segment["id"])
    await count_of(api, settings, segment["id"], 1)

    # Customers after it: counted by the projection as they change.
    zoe, _ = await register(api, settings, first_name="Zoe", tags=["vip"])
    await count_of(api, settings, segment["id"], 2)
    left = await api.patch(f"{CUSTOMERS}/{vip['id']}", json={"tags": []}, headers=bearer(settings))
    assert left.status_code == 200
    await count_of(api, settings, segment["id"], 1)
    deleted = await api.delete(f"{CUSTOMERS}/{zoe['id']}", headers=manager(settings))
    assert deleted.status_code == 204
    await count_of(api, settings, segment["id"], 0)
    restored = await api.post(f"{CUSTOMERS}/{zoe['id']}/restore", headers=manager(settings))
    assert restored.status_code == 200
    body = await count_of(api, settings, segment["id"], 1)
    assert body["name"] == "VIPs"

    members = await api.get(
        f"{SEGMENTS}/{segment['id']}/customers",
        params={"min_position": restored.headers["x-position"]},
        headers=bearer(settings),
    )
    assert members.status_code == 200, members.text
    assert [customer["id"] for customer in members.json()["items"]] == [zoe["id"]]

    listed = await api.get(SEGMENTS, headers=bearer(settings))
    assert [item["id"] for item in listed.json()["items"]] == [segment["id"]]
    gone = await api.delete(f"{SEGMENTS}/{segment['id']}", headers=manager(settings))
    assert gone.status_code == 204
    for _ in range(100):
        if (await api.get(f"{SEGMENTS}/{segment['id']}", headers=bearer(settings))).status_code == 404:
            break
        await asyncio.sleep(0.1)
    assert (await api.get(f"{SEGMENTS}/{segment['id']}", headers=bearer(settings))).status_code == 404
    # Its name is free again.
    again = await api.post(SEGMENTS, json={"name": "VIPs", "filter": {}}, headers=manager(settings))
    assert again.status_code == 201, again.text


async def test_many_concurrent_changes_keep_the_count_exact(api, workers, settings):
    segment = (
        await api.post(
            SEGMENTS, json={"name": "Gold cards", "filter": {"attr.card": "gold"}}, headers=manager(settings)
        )
    ).json()
    await count_of(api, settings, segment["id"], 0)
    created = await asyncio.gather(
        *(register(api, settings, first_name=f"P{index}", attributes={"card": "gold"}) for index in range(12))
    )
    await asyncio.gather(
        *(
            api.patch(
                f"{CUSTOMERS}/{customer['id']}", json={"attributes": {"card": "silver"}}, headers=bearer(settings)
            )
            for customer, _ in created[:5]
        )
    )
    await count_of(api, settings, segment["id"], 7)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "x", "filter": {"sort": "last_name"}}, 422),
        ({"name": "x", "filter": {"min_total_spent": 10}}, 422),  # without a currency
        ({"name": "x", "filter": {"type": "royalty"}}, 422),
        ({"name": "x", "filter": {"attr.Bad Key": "1"}}, 422),
        ({"name": "", "filter": {}}, 422),
        ({"name": "x" * 101, "filter": {}}, 422),
        ({"name": "x", "filter": {}, "extra": 1}, 422),
        ({"filter": {}}, 422),
    ],
)
async def test_a_bad_segment_is_refused_with_the_reason(api, settings, body, status):
    response = await api.post(SEGMENTS, json=body, headers=manager(settings))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_names_are_unique_per_business_and_roles_and_tenancy_hold(api, settings):
    first = await api.post(SEGMENTS, json={"name": "Lapsed", "filter": {}}, headers=manager(settings))
    assert first.status_code == 201
    clash = await api.post(SEGMENTS, json={"name": "lapsed", "filter": {"tag": "x"}}, headers=manager(settings))
    assert clash.status_code == 409
    assert clash.json()["existing_segment_id"] == first.json()["id"]
    other = bearer(settings, business_ids=("biz_2",), roles=("manager",))
    elsewhere = await api.post(
        "/api/v1/businesses/biz_2/segments", json={"name": "Lapsed", "filter": {}}, headers=other
    )
    assert elsewhere.status_code == 201
    assert (await api.post(SEGMENTS, json={"name": "y", "filter": {}}, headers=bearer(settings))).status_code == 403
    assert (await api.get(f"{SEGMENTS}/{first.json()['id']}", headers=other)).status_code == 404
    assert (await api.get(f"/api/v1/businesses/biz_2/segments/{first.json()['id']}", headers=other)).status_code == 404
    assert (await api.delete(f"{SEGMENTS}/seg_unknown", headers=manager(settings))).status_code == 404


SEGMENT_MATRIX = [
    ("GET", "", None, "viewer"),
    ("GET", "/{id}", None, "viewer"),
    ("GET", "/{id}/customers", None, "viewer"),
    ("POST", "", {"name": "New", "filter": {}}, "manager"),
    ("DELETE", "/{id}", None, "manager"),
]


def test_the_segment_matrix_covers_every_segment_route():
    from interfaces.http.app import create_app

    base = "/api/v1/businesses/{business_id}/segments"
    served = {
        (method, route.path.replace(":str", "").removeprefix(base))
        for route in create_app().routes
        if route.path.replace(":str", "").startswith(base)
        for method in getattr(route, "methods", ())
        if method not in ("OPTIONS", "HEAD")
    }
    assert served == {(method, path.replace("{id}", "{segment_id}")) for method, path, _, _ in SEGMENT_MATRIX}


@pytest.mark.parametrize(("method", "path", "body", "lowest"), SEGMENT_MATRIX)
async def test_each_role_reaches_exactly_the_segment_routes_it_may(api, settings, method, path, body, lowest):
    from interfaces.http.auth import ROLES

    for role in ROLES:
        segment = (await api.post(SEGMENTS, json={"name": f"S {role}", "filter": {}}, headers=manager(settings))).json()
        target = f"{SEGMENTS}{path.replace('{id}', segment['id'])}"
        kwargs = {"json": body} if body is not None else {}
        if body is not None:
            kwargs["json"] = {**body, "name": f"{body['name']} {role}"}
        response = await api.request(method, target, headers=bearer(settings, roles=(role,)), **kwargs)
        allowed = ROLES.index(role) >= ROLES.index(lowest)
        assert (response.status_code not in (401, 403)) == allowed, (role, response.status_code, response.text)
        assert response.status_code < 500
