"""An erasure takes the erased customer's names out of the fences of the lists by name
(they are sort keys), and leaves the rest of those fences: a list by name of a large
business does not have to read its whole range again after each erasure."""

import pytest

from application.projections.customer_query_fields import SORT_KEY_SEPARATOR
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
BUSINESS = "biz_fences"
CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"
COUNT = 70  # more than a bucket may hold before it is split (list_fences.SPLIT)


def headers(settings, role: str = "staff") -> dict:
    return bearer(settings, business_ids=(BUSINESS,), roles=(role,))


async def names_in_order(api, settings) -> list[str]:
    names, cursor = [], None
    while True:
        params = {"sort": "last_name", "limit": 20, **({"cursor": cursor} if cursor else {})}
        page = await api.get(CUSTOMERS, params=params, headers=headers(settings))
        assert page.status_code == 200, page.text
        names += [item["last_name"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return names


async def test_an_erasure_removes_only_the_erased_customers_name_fences(api, workers, settings, container):
    ids = {}
    for index in range(COUNT):
        created = await api.post(CUSTOMERS, json={"last_name": f"Fenceton{index:03d}"}, headers=headers(settings))
        assert created.status_code == 201, created.text
        ids[created.json()["id"]] = f"Fenceton{index:03d}"
    await until_projected(container, BUSINESS)
    assert await names_in_order(api, settings) == sorted(ids.values())  # lays the fences

    fences = container.database()["list_fences"]
    [before] = [document async for document in fences.find({"_id": {"$regex": f"^{BUSINESS}\\|.*\\|last_name$"}})]
    assert before["fences"], "70 names make more than one bucket"
    erased_id = before["fences"][0].rsplit(SORT_KEY_SEPARATOR, 1)[1]
    erased_name = ids.pop(erased_id)

    erased = await api.post(f"{CUSTOMERS}/{erased_id}/erase", headers=headers(settings, "admin"))
    assert erased.status_code == 200, erased.text
    await until_projected(container, BUSINESS)

    after = await fences.find_one({"_id": before["_id"]})
    assert after is not None, "the other fences stay"
    assert after["fences"] == before["fences"][1:]
    assert len(after["counts"]) == len(after["fences"]) + 1 and sum(after["counts"]) == sum(before["counts"])
    assert erased_name.casefold() not in str(after).casefold()
    assert await names_in_order(api, settings) == sorted(ids.values())
