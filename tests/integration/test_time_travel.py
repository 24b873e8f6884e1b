"""`GET /customers/{id}?as_of=` (contract v1.1): the customer as it was, from its events."""

from datetime import datetime, timedelta

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


def moment(text: str, **shift: float) -> str:
    return (datetime.fromisoformat(text) + timedelta(**shift)).isoformat()


async def as_of(api, settings, customer_id: str, when: str, **claims):
    return await api.get(
        f"{CUSTOMERS}/{customer_id}",
        params={"as_of": when},
        headers=bearer(settings, **{"roles": ("viewer",), **claims}),
    )


async def ana_then_renamed(api, settings) -> tuple[dict, dict]:
    created = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "ana@example.com"}, headers=bearer(settings)
    )
    assert created.status_code == 201, created.text
    patched = await api.patch(
        f"{CUSTOMERS}/{created.json()['id']}",
        json={"last_name": "Silva", "email": "ana.silva@example.com", "tags": ["vip"]},
        headers=bearer(settings),
    )
    assert patched.status_code == 200, patched.text
    return created.json(), patched.json()


async def test_the_customer_as_it_was_at_each_moment(api, settings):
    created, patched = await ana_then_renamed(api, settings)
    then = await as_of(api, settings, created["id"], created["created_at"])
    assert then.status_code == 200, then.text
    assert (then.json()["email"], then.json()["last_name"], then.json()["version"]) == ("ana@example.com", None, 1)
    assert then.headers["etag"] == '"1"'
    now = await as_of(api, settings, created["id"], moment(patched["updated_at"], seconds=1))
    assert (now.json()["email"], now.json()["last_name"], now.json()["tags"]) == (
        "ana.silva@example.com",
        "Silva",
        ["vip"],
    )
    before = await as_of(api, settings, created["id"], moment(created["created_at"], microseconds=-1))
    assert before.status_code == 404
    assert before.headers["content-type"].startswith("application/problem+json")


async def test_erased_personal_data_stays_erased_in_the_past(api, settings):
    created, _ = await ana_then_renamed(api, settings)
    erased = await api.post(f"{CUSTOMERS}/{created['id']}/erase", headers=bearer(settings, roles=("admin",)))
    assert erased.status_code == 200
    # Right after the erasure, in the process that just held the key.
    then = (await as_of(api, settings, created["id"], created["created_at"])).json()
    assert (then["status"], then["first_name"], then["email"], then["version"]) == ("active", None, None, 1)
    assert "example.com" not in str(then)


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "yesterday"},
        {"as_of": "2026-11-23T10:00:00"},  # no offset
        {"as_of": "2026-11-23T10:00:00Z", "min_version": "1"},
    ],
)
async def test_a_bad_moment_is_a_clear_4xx(api, settings, params):
    created, _ = await ana_then_renamed(api, settings)
    response = await api.get(f"{CUSTOMERS}/{created['id']}", params=params, headers=bearer(settings))
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.status_code == 400 or [error["field"] for error in response.json()["errors"]] == ["as_of"]


async def test_time_travel_needs_a_token_and_stays_in_its_business(api, settings):
    created, _ = await ana_then_renamed(api, settings)
    path = f"{CUSTOMERS}/{created['id']}"
    assert (await api.get(path, params={"as_of": created["created_at"]})).status_code == 401
    other = await api.get(
        f"/api/v1/businesses/biz_2/customers/{created['id']}",
        params={"as_of": created["created_at"]},
        headers=bearer(settings, business_ids=("biz_2",)),
    )
    assert other.status_code == 404
    unknown = await as_of(api, settings, "cus_unknown", created["created_at"])
    assert unknown.status_code == 404
