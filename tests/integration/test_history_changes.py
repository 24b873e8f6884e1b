"""History `changes` (contract v1.1): `{field: {from, to}}` for managers and admins, the
field names only for lower roles; erased personal data stays erased in the past."""

import asyncio

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


@pytest.fixture(autouse=True)
def running_workers(workers):
    return workers


async def history(api, settings, customer_id: str, version: int, role: str) -> list[dict]:
    """The history once the projection has reached `version` (bounded wait)."""
    for _ in range(200):
        response = await api.get(f"{CUSTOMERS}/{customer_id}/history", headers=bearer(settings, roles=(role,)))
        assert response.status_code in (200, 404), response.text  # 404 until first projected
        items = response.json().get("items")
        if items and items[0]["version"] >= version:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"history of {customer_id} never reached version {version}")


async def customer_with_a_changed_email(api, settings) -> tuple[str, int]:
    created = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "ana@example.com"}, headers=bearer(settings)
    )
    customer_id = created.json()["id"]
    patched = await api.patch(
        f"{CUSTOMERS}/{customer_id}", json={"email": "ana.s@example.com"}, headers=bearer(settings)
    )
    assert patched.status_code == 200, patched.text
    return customer_id, patched.json()["version"]


@pytest.mark.parametrize("role", ["manager", "admin"])
async def test_managers_and_admins_see_each_field_from_and_to(api, settings, container, role):
    customer_id, version = await customer_with_a_changed_email(api, settings)
    updated, registered = await history(api, settings, customer_id, version, role)
    assert updated["changes"] == {"email": {"from": "ana@example.com", "to": "ana.s@example.com"}}
    assert registered["changes"]["first_name"] == {"from": None, "to": "Ana"}
    assert registered["changes"]["type"] == {"from": None, "to": "new"}
    # Seeing the values is a read of personal data: it is in the access log (the API ships
    # its spool a few times a second).
    for _ in range(50):
        records = await container.access_log().about("biz_1", customer_id, limit=50)
        if "read_history" in [record.action for record in records]:
            break
        await asyncio.sleep(0.1)
    assert "read_history" in [record.action for record in records]


@pytest.mark.parametrize("role", ["viewer", "staff"])
async def test_lower_roles_see_field_names_only(api, settings, role):
    customer_id, version = await customer_with_a_changed_email(api, settings)
    updated, registered = await history(api, settings, customer_id, version, role)
    assert updated["changes"] == {"email": {}}
    assert set(registered["changes"]) == {"first_name", "email", "type", "segment"}
    assert "ana" not in str(updated) + str(registered)


async def test_erased_personal_data_stays_erased_in_the_history(api, settings):
    customer_id, _ = await customer_with_a_changed_email(api, settings)
    erased = await api.post(f"{CUSTOMERS}/{customer_id}/erase", headers=bearer(settings, roles=("admin",)))
    assert erased.status_code == 200
    items = await history(api, settings, customer_id, erased.json()["version"], "admin")
    assert items[0]["changes"]["status"] == {"from": "active", "to": "erased"}
    assert items[1]["changes"] == {"email": {"from": None, "to": None}}
    assert "example.com" not in str(items)


async def test_another_business_gets_a_404(api, settings):
    customer_id, _ = await customer_with_a_changed_email(api, settings)
    response = await api.get(
        f"/api/v1/businesses/biz_2/customers/{customer_id}/history",
        headers=bearer(settings, business_ids=("biz_2",), roles=("admin",)),
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
