"""`metrics.total_items` (contract v1.1) from the order messages on the real broker."""

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


async def test_total_items_counts_completed_purchases_and_not_cancelled_or_open_orders(api, container, settings):
    ana = {"email": "ana.silva@example.com", "first_name": "Ana"}
    messages = [
        envelope("order.placed", order_placed("ord_i1", booker=ana, attendees=[], items_count=2)),
        envelope("order.completed", order_completed("ord_i1", items_count=2)),
        envelope("order.placed", order_placed("ord_i2", booker=ana, attendees=[], items_count=3)),
        envelope("order.completed", order_completed("ord_i2", items_count=3)),
        envelope("order.placed", order_placed("ord_i3", booker=ana, attendees=[], items_count=7)),
        envelope("order.cancelled", {"order_id": "ord_i3", "cancelled_at": "2026-11-23T10:20:00Z"}),
        envelope("order.placed", order_placed("ord_i4", booker=ana, attendees=[], items_count=11)),
    ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))

    customer_id = await holder_of(container, "email", "ana.silva@example.com")
    version = await container.event_store().stream_version(BUSINESS, customer_id)
    headers = bearer(settings, business_ids=(BUSINESS,), roles=("viewer",))
    view = await api.get(f"{CUSTOMERS}/{customer_id}?min_version={version}", headers=headers)
    assert view.status_code == 200, view.text
    metrics = view.json()["metrics"]
    assert (metrics["total_purchases"], metrics["total_items"], metrics["open_orders"]) == (2, 5, 1)
    alone = await api.get(f"{CUSTOMERS}/{customer_id}/metrics", headers=headers)
    assert alone.json()["total_items"] == 5
    other_tenant = await api.get(
        f"{CUSTOMERS}/{customer_id}/metrics", headers=bearer(settings, business_ids=("biz_x",))
    )
    assert other_tenant.status_code == 404
    assert other_tenant.headers["content-type"].startswith("application/problem+json")
