"""`GET /customers/{id}/purchases` paged (contract v1.1): newest first, up to `limit` orders
per page with their payments, a signed cursor bound to the customer."""

import pytest

from tests.inbound import (
    BUSINESS,
    Publisher,
    envelope,
    holder_of,
    order_placed,
    payment_succeeded,
    wait_until_processed,
)
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"
ANA = {"email": "ana.silva@example.com", "first_name": "Ana"}


@pytest.fixture(autouse=True)
def running_workers(workers):
    return workers


def headers(settings, **claims) -> dict:
    return bearer(settings, business_ids=(BUSINESS,), **{"roles": ("viewer",), **claims})


async def ana_with_five_orders(api, container, settings) -> str:
    """Ana booked ord_1..ord_5 on days 1..5 and paid ord_2 and ord_4; she also paid (day 3,
    noon) an order Bea booked, which is none of hers."""
    messages = [
        envelope(
            "order.placed", order_placed(f"ord_{day}", booker=ANA, attendees=[], placed_at=f"2026-11-0{day}T10:00:00Z")
        )
        for day in range(1, 6)
    ]
    messages.append(
        envelope("order.placed", order_placed("ord_bea", booker={"email": "bea@example.com"}, attendees=[]))
    )
    messages += [
        envelope(
            "payment.succeeded",
            payment_succeeded(f"pay_{day}", order_id=f"ord_{day}", paid_at=f"2026-11-0{day}T10:05:00Z"),
        )
        for day in (2, 4)
    ]
    messages.append(
        envelope("payment.succeeded", payment_succeeded("pay_bea", order_id="ord_bea", paid_at="2026-11-03T12:00:00Z"))
    )
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))
    ana = await holder_of(container, "email", "ana.silva@example.com")
    version = await container.event_store().stream_version(BUSINESS, ana)
    assert (await api.get(f"{CUSTOMERS}/{ana}?min_version={version}", headers=headers(settings))).status_code == 200
    return ana


async def test_purchases_come_newest_first_in_pages_with_their_payments(api, container, settings):
    ana = await ana_with_five_orders(api, container, settings)
    path = f"{CUSTOMERS}/{ana}/purchases"
    pages, cursor = [], None
    while True:
        response = await api.get(
            path, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=headers(settings)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(
            ([order["order_id"] for order in body["orders"]], [payment["payment_id"] for payment in body["payments"]])
        )
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [
        (["ord_5", "ord_4"], ["pay_4"]),
        (["ord_3", "ord_2"], ["pay_bea", "pay_2"]),
        (["ord_1"], []),
    ]
    everything = (await api.get(path, headers=headers(settings))).json()
    assert len(everything["orders"]) == 5 and everything["next_cursor"] is None
    assert [payment["payment_id"] for payment in everything["payments"]] == ["pay_4", "pay_bea", "pay_2"]


async def test_bad_limits_and_cursors_are_clear_4xx_problems(api, container, settings):
    ana = await ana_with_five_orders(api, container, settings)
    path = f"{CUSTOMERS}/{ana}/purchases"
    for limit in (0, 101, "x"):
        response = await api.get(path, params={"limit": limit}, headers=headers(settings))
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    forged = await api.get(path, params={"cursor": "eyJ2IjoyfQ.AAAA"}, headers=headers(settings))
    assert forged.status_code == 400 and forged.json()["errors"][0]["field"] == "cursor"
    # A cursor is bound to its customer: another customer's page refuses it.
    cursor = (await api.get(path, params={"limit": 1}, headers=headers(settings))).json()["next_cursor"]
    bea = await holder_of(container, "email", "bea@example.com")
    elsewhere = await api.get(f"{CUSTOMERS}/{bea}/purchases", params={"cursor": cursor}, headers=headers(settings))
    assert elsewhere.status_code == 400


async def test_purchases_are_for_readers_of_the_customers_own_business(api, container, settings):
    ana = await ana_with_five_orders(api, container, settings)
    path = f"{CUSTOMERS}/{ana}/purchases"
    assert (await api.get(path)).status_code == 401
    other = await api.get(
        f"/api/v1/businesses/biz_other/customers/{ana}/purchases", headers=bearer(settings, business_ids=("biz_other",))
    )
    assert other.status_code == 404
    assert (await api.get(f"{CUSTOMERS}/cus_unknown/purchases", headers=headers(settings))).status_code == 404


async def test_the_history_is_kept_outside_the_view_one_record_per_order_and_payment(api, container, settings):
    ana = await ana_with_five_orders(api, container, settings)
    view = await container.customer_views().get(BUSINESS, ana)
    assert view is not None and view.purchases.orders == () and view.purchases.payments == ()
    assert view.metrics.open_orders == 5
    purchases = container.customer_purchases()
    orders = await purchases.orders(BUSINESS, ana, None, 100)
    assert [order.order_id for order in orders] == ["ord_5", "ord_4", "ord_3", "ord_2", "ord_1"]
    assert [order.order_id for order in await purchases.orders(BUSINESS, ana, (orders[1].placed_at, "ord_4"), 2)] == [
        "ord_3",
        "ord_2",
    ]
    # Ana only paid for Bea's order: it is the one payment of no order of her own.
    paid_only = await purchases.payments(BUSINESS, ana, [], None, None)
    assert [payment.payment_id for payment in paid_only] == ["pay_bea"]
    # Another business sees none of them.
    assert await purchases.orders("biz_other", ana, None, 100) == []
