"""The type moves by itself (contract v1.1), each move in the history: a first completed
purchase from the order messages, and staff completing an unregistered customer."""

import asyncio

import pytest

from tests.inbound import (
    BUSINESS,
    Publisher,
    envelope,
    holder_of,
    order_completed,
    order_placed,
    wait_until_processed,
)
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"


@pytest.fixture(autouse=True)
def running_workers(workers):
    return workers


def headers(settings, **claims) -> dict:
    return bearer(settings, business_ids=(BUSINESS,), **claims)


async def read_latest(api, container, settings, customer_id: str) -> dict:
    version = await container.event_store().stream_version(BUSINESS, customer_id)
    response = await api.get(f"{CUSTOMERS}/{customer_id}?min_version={version}", headers=headers(settings))
    assert response.status_code == 200, response.text
    return response.json()


async def history_of(api, settings, customer_id: str, version: int) -> list[dict]:
    """The history once the projection has reached `version` (bounded wait)."""
    for _ in range(200):
        items = (await api.get(f"{CUSTOMERS}/{customer_id}/history", headers=headers(settings))).json()["items"]
        if items and items[0]["version"] >= version:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"history of {customer_id} never reached version {version}")


async def test_a_new_customer_becomes_regular_with_its_first_completed_purchase(api, container, settings):
    created = await api.post(
        CUSTOMERS, json={"first_name": "Ana", "email": "ana.silva@example.com"}, headers=headers(settings)
    )
    assert created.status_code == 201 and created.json()["type"] == "new"
    ana = created.json()["id"]
    placed = envelope("order.placed", order_placed("ord_t1", attendees=[]))
    completed = envelope("order.completed", order_completed("ord_t1"))
    async with Publisher(container) as publisher:
        await publisher.publish(placed)
        await publisher.publish(completed)
    await wait_until_processed(container, placed["event_id"], completed["event_id"])

    view = await read_latest(api, container, settings, ana)
    assert (view["type"], view["metrics"]["total_purchases"]) == ("regular", 1)
    items = await history_of(api, settings, ana, view["version"])
    assert [(item["event_type"], item["changed_fields"]) for item in items[:2]] == [
        ("customer.type_changed", ["type"]),
        ("customer.order_completed", ["purchases", "metrics"]),
    ]


async def test_an_unregistered_customer_becomes_regular_when_staff_complete_it(api, container, settings):
    placed = envelope(
        "order.placed",
        order_placed("ord_t2", booker={"first_name": "Rui", "phone": "912345679"}, attendees=[]),
    )
    async with Publisher(container) as publisher:
        await publisher.publish(placed)
    await wait_until_processed(container, placed["event_id"])
    rui = await holder_of(container, "phone", "+351912345679")
    assert rui is not None
    assert (await read_latest(api, container, settings, rui))["type"] == "unregistered"

    # A change that gives no email or phone completes nothing.
    renamed = await api.patch(f"{CUSTOMERS}/{rui}", json={"last_name": "Costa"}, headers=headers(settings))
    assert (renamed.status_code, renamed.json()["type"]) == (200, "unregistered")
    completed = await api.patch(f"{CUSTOMERS}/{rui}", json={"email": "rui@example.com"}, headers=headers(settings))
    assert completed.status_code == 200, completed.text
    assert completed.json()["type"] == "regular"
    items = await history_of(api, settings, rui, completed.json()["version"])
    assert items[0]["event_type"] == "customer.type_changed"
    assert items[1]["event_type"] == "customer.updated" and items[1]["changed_fields"] == ["email"]


async def test_an_anonymous_customer_stays_anonymous_until_a_contact_is_added(api, container, settings):
    created = await api.post(CUSTOMERS, json={"first_name": "Zoe"}, headers=headers(settings))
    zoe = created.json()["id"]
    assert created.json()["type"] == "anonymous"
    named = await api.patch(f"{CUSTOMERS}/{zoe}", json={"last_name": "Lopes"}, headers=headers(settings))
    assert named.json()["type"] == "anonymous"
    refused = await api.patch(f"{CUSTOMERS}/{zoe}", json={"type": "regular"}, headers=headers(settings))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    contact = await api.patch(f"{CUSTOMERS}/{zoe}", json={"phone": "912345670"}, headers=headers(settings))
    assert contact.json()["type"] == "new"
    viewer = await api.patch(
        f"{CUSTOMERS}/{zoe}", json={"email": "zoe@example.com"}, headers=headers(settings, roles=("viewer",))
    )
    assert viewer.status_code == 403
