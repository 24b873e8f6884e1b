"""Consent purposes (contract v1.1): the known ones and any matching the pattern; 422 otherwise."""

import pytest

from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def registered(api, settings) -> str:
    response = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "ana@example.com"}, headers=bearer(settings)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.parametrize("purpose", ["marketing_email", "marketing_sms", "offers", "loyalty", "a", "p" + "x" * 39])
async def test_the_known_purposes_and_any_matching_the_pattern_are_accepted(api, settings, purpose):
    customer_id = await registered(api, settings)
    response = await api.put(
        f"{CUSTOMERS}/{customer_id}/consents/{purpose}",
        json={"granted": True, "source": "signup_form"},
        headers=bearer(settings),
    )
    assert response.status_code == 200, response.text
    assert response.json()["consents"][purpose]["granted"] is True


@pytest.mark.parametrize("purpose", ["Offers", "1loyalty", "_offers", "offers-email", "p" + "x" * 40, "loyalty%20x"])
async def test_a_purpose_off_the_pattern_is_a_422_problem(api, settings, purpose):
    customer_id = await registered(api, settings)
    response = await api.put(
        f"{CUSTOMERS}/{customer_id}/consents/{purpose}", json={"granted": True}, headers=bearer(settings)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["purpose"]


async def test_a_consent_needs_staff_and_the_customers_own_business(api, settings):
    customer_id = await registered(api, settings)
    path = f"{CUSTOMERS}/{customer_id}/consents/loyalty"
    viewer = await api.put(path, json={"granted": True}, headers=bearer(settings, roles=("viewer",)))
    assert viewer.status_code == 403
    other_business = await api.put(
        f"/api/v1/businesses/biz_2/customers/{customer_id}/consents/loyalty",
        json={"granted": True},
        headers=bearer(settings, business_ids=("biz_2",)),
    )
    assert other_business.status_code == 404
    assert other_business.headers["content-type"].startswith("application/problem+json")
