"""Insights on the real servers: the business at a glance, exact as customers change."""

import pytest

from tests.inbound import BUSINESS, Publisher, envelope, order_completed, order_placed, wait_until_processed
from tests.tokens import bearer

pytestmark = pytest.mark.integration
BASE = "/api/v1/businesses/biz_1"


async def insights(api, settings, position: int) -> dict:
    response = await api.get(f"{BASE}/insights", params={"min_position": position}, headers=bearer(settings))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of_position"] >= position
    return body


async def test_insights_count_the_active_customers_and_follow_their_changes(api, workers, settings):
    headers = bearer(settings)
    created = []
    for profile in (
        {"first_name": "Ana", "email": "ana@example.com", "segment": "vip"},
        {"first_name": "Rui", "email": "rui@example.com"},
        {"first_name": "Zoe"},
    ):
        response = await api.post(f"{BASE}/customers", json=profile, headers=headers)
        assert response.status_code == 201
        created.append(response)
    body = await insights(api, settings, int(created[-1].headers["x-position"]))
    assert body["customers"]["total"] == 3
    assert body["customers"]["by_segment"]["vip"] == 1
    assert sum(body["customers"]["by_type"].values()) == 3
    assert body["new_customers"] == {"last_7_days": 3, "last_30_days": 3}
    assert body["repeat_rate"] == 0.0

    deleted = await api.delete(
        f"{BASE}/customers/{created[2].json()['id']}", headers=bearer(settings, roles=("manager",))
    )
    assert deleted.status_code == 204
    body = await insights(api, settings, int(deleted.headers["x-position"]))
    assert body["customers"]["total"] == 2


async def test_purchases_move_the_repeat_rate_and_the_lifetime_value(api, workers, settings, container):
    base = f"/api/v1/businesses/{BUSINESS}"
    headers = bearer(settings, business_ids=(BUSINESS,))
    created = await api.post(f"{base}/customers", json={"first_name": "Ana", "email": "ana@x.pt"}, headers=headers)
    assert created.status_code == 201
    async with Publisher(container) as publisher:
        messages = []
        for index, amount in enumerate((4000, 6000)):
            data = order_placed(
                order_id=f"ord_{index}", booker={"email": "ana@x.pt"}, attendees=[], total_amount_minor=amount
            )
            placed = envelope("order.placed", data)
            completed = envelope("order.completed", order_completed(order_id=f"ord_{index}", total_amount_minor=amount))
            for message in (placed, completed):
                await publisher.publish(message)
                messages.append(message["event_id"])
        await wait_until_processed(container, *messages)
    head = await container.event_store().head_position(BUSINESS)
    response = await api.get(f"{base}/insights", params={"min_position": head}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customers"]["total"] == 1
    assert body["repeat_rate"] == 1.0
    assert body["lifetime_value"]["EUR"] == {"total_minor": 10000, "average_minor": 10000}
    assert body["customers"]["by_frequency_tier"]["occasional"] == 1


async def test_insights_refuse_a_position_the_business_never_reached_and_other_tenants(api, settings):
    assert (await api.get(f"{BASE}/insights", params={"min_position": 99}, headers=bearer(settings))).status_code == 422
    other = bearer(settings, business_ids=("biz_2",))
    assert (await api.get(f"{BASE}/insights", headers=other)).status_code == 404
