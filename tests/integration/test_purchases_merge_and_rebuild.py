"""A merge moves the purchase history (its records too); replaying the event store rebuilds
the same views and histories."""

import pytest

from application.projections.customer_details import ProjectCustomerDetails
from domain.customer.events import CustomerEvent
from tests.fakes import InMemoryCustomerCache, InMemoryCustomerViews, InMemorySegments
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


def _order(order_id: str, email: str, amount: int) -> dict:
    return order_placed(order_id, booker={"email": email, "first_name": "Ana"}, attendees=[], total_amount_minor=amount)


async def test_a_merge_moves_the_purchases_and_a_rebuild_from_the_event_store_reproduces_the_read_model(
    api, workers, container, settings
):
    before_merge = [
        envelope("order.placed", _order("ord_1", "ana@example.com", 4500)),
        envelope("order.completed", order_completed("ord_1", total_amount_minor=4500)),
        envelope("order.placed", _order("ord_2", "ana.work@example.com", 3000)),
        envelope("order.completed", order_completed("ord_2", total_amount_minor=3000)),
        envelope("order.placed", _order("ord_3", "ana.work@example.com", 1000)),
    ]
    late = envelope(
        "order.completed", order_completed("ord_3", total_amount_minor=1000, completed_at="2026-12-01T09:00:00Z")
    )
    async with Publisher(container) as publisher:
        for message in before_merge:
            await publisher.publish(message)
        await wait_until_processed(container, *(message["event_id"] for message in before_merge))
        target = await holder_of(container, "email", "ana@example.com")
        source = await holder_of(container, "email", "ana.work@example.com")
        merged = await api.post(
            f"{CUSTOMERS}/{target}/merge",
            json={"source_customer_id": source},
            headers=bearer(settings, business_ids=(BUSINESS,), roles=("manager",)),
        )
        assert merged.status_code == 200, merged.text
        metrics = merged.json()["metrics"]
        assert (metrics["total_purchases"], metrics["open_orders"], metrics["frequency_tier"]) == (2, 1, "occasional")
        assert metrics["spend"]["EUR"]["average_minor"] == 3750
        # The source was the purchaser of ord_3: its completion now reaches the target.
        await publisher.publish(late)
    await wait_until_processed(container, late["event_id"])

    event_store = container.event_store()
    versions = {
        customer_id: await event_store.stream_version(BUSINESS, customer_id) for customer_id in (target, source)
    }
    for customer_id, version in versions.items():
        read = await api.get(
            f"{CUSTOMERS}/{customer_id}?min_version={version}", headers=bearer(settings, business_ids=(BUSINESS,))
        )
        assert read.status_code == 200, read.text
    views = container.customer_views()
    stored = await views.get_many([target, source])
    # The views hold the metrics; the orders are records of their own, outside them.
    assert stored[target].purchases.orders == ()
    histories = await views.purchases_of({target: BUSINESS, source: BUSINESS})
    live = {
        customer_id: state.model_copy(update={"purchases": histories[customer_id]})
        for customer_id, state in stored.items()
    }
    assert live[target].metrics.total_purchases == 3 and live[target].metrics.open_orders == 0
    assert live[target].metrics.is_repeat_customer
    assert [order.order_id for order in live[target].purchases.orders] == ["ord_1", "ord_2", "ord_3"]
    # The source's records went with its history, to the target.
    assert live[source].purchases.orders == () and live[source].status == "merged"

    rebuilt = InMemoryCustomerViews()
    projection = ProjectCustomerDetails(rebuilt, event_store, InMemoryCustomerCache(), InMemorySegments())
    everything = await event_store.read_log(BUSINESS, 0, 10_000)
    await projection.execute([recorded for recorded in everything if isinstance(recorded.event, CustomerEvent)])
    for customer_id in (target, source):
        assert rebuilt.views[customer_id].model_dump() == live[customer_id].model_dump()
