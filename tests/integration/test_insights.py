"""Insights on the real servers: the business at a glance, exact as customers change."""

import uuid

import pytest

from application.projections.customer_details import ProjectCustomerDetails
from application.segments.ports import NoSegmentsKept
from domain.customer.events import CustomerEvent
from infrastructure.mongo.documents import CustomerPurchase, InsightsMember, InsightsPurchase
from infrastructure.mongo.insights import MongoInsights
from tests.fakes import InMemoryCustomerCache, InMemoryCustomerViews, InMemorySegments
from tests.inbound import (
    BUSINESS,
    Publisher,
    envelope,
    holder_of,
    order_completed,
    order_placed,
    payment_succeeded,
    refund,
    wait_until_processed,
)
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


async def test_members_keep_their_purchase_histories_outside_and_the_figures_stay_exact(
    api, workers, settings, container
):
    base = f"/api/v1/businesses/{BUSINESS}"
    headers = bearer(settings, business_ids=(BUSINESS,))
    booker = {"email": "hist@example.com", "first_name": "Ana"}

    def order(order_id: str, amount: int, day: int) -> list[dict]:
        return [
            envelope(
                "order.placed",
                order_placed(
                    order_id,
                    booker=booker,
                    attendees=[],
                    total_amount_minor=amount,
                    placed_at=f"2026-11-0{day}T10:00:00Z",
                ),
            ),
            envelope("order.completed", order_completed(order_id, total_amount_minor=amount)),
            envelope(
                "payment.succeeded",
                payment_succeeded(
                    f"pay_{order_id}",
                    order_id=order_id,
                    payer={"email": "hist@example.com"},
                    amount_minor=amount,
                    paid_at=f"2026-11-0{day}T10:05:00Z",
                ),
            ),
        ]

    # Three rounds, each projected before the next: each later batch folds purchase events
    # against the history the projector reads back from `insights_purchases`.
    rounds = [
        order("ord_h1", 4000, 1),
        order("ord_h2", 6000, 2),
        [envelope("payment.refunded", refund("rf_h", 1500, "pay_ord_h2"))],
    ]
    async with Publisher(container) as publisher:
        for messages in rounds:
            for message in messages:
                await publisher.publish(message)
            await wait_until_processed(container, *(message["event_id"] for message in messages))
            head = await container.event_store().head_position(BUSINESS)
            await container.position_wait().until_reached("insights", BUSINESS, head)

    response = await api.get(f"{base}/insights", params={"min_position": head}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customers"]["total"] == 1
    assert body["repeat_rate"] == 1.0
    assert body["customers"]["by_frequency_tier"]["occasional"] == 1
    assert body["lifetime_value"]["EUR"] == {"total_minor": 8500, "average_minor": 8500}

    customer_id = await holder_of(container, "email", "hist@example.com")
    database = container.database()
    member = await database[InsightsMember.Settings.name].find_one({"_id": customer_id})
    assert member is not None
    assert "purchases" not in member["state"]
    assert member["state"]["metrics"]["total_purchases"] == 2
    assert member["state"]["metrics"]["spend"]["EUR"]["lifetime_value_minor"] == 8500
    records = await database[InsightsPurchase.Settings.name].find({"customer_id": customer_id}).to_list()
    assert sorted(record["_id"] for record in records) == [
        f"{customer_id}/order/ord_h1",
        f"{customer_id}/order/ord_h2",
        f"{customer_id}/payment/pay_ord_h1",
        f"{customer_id}/payment/pay_ord_h2",
    ]
    # The same records as the customer-details read model's: both fold the same events.
    await container.position_wait().until_reached("customer_details", BUSINESS, head)
    details = await database[CustomerPurchase.Settings.name].find({"customer_id": customer_id}).to_list()
    assert sorted(records, key=lambda record: record["_id"]) == sorted(details, key=lambda record: record["_id"])
    refunded = next(record for record in records if record["_id"].endswith("pay_ord_h2"))
    assert [part["amount_minor"] for part in refunded["record"]["refunds"]] == [1500]


async def test_a_member_stored_with_its_history_inside_writes_all_of_it_out_at_its_next_change(
    api, workers, container, settings
):
    booker = {"email": "old@example.com", "first_name": "Olga"}
    messages = [
        envelope("order.placed", order_placed("ord_o1", booker=booker, attendees=[], total_amount_minor=1000)),
        envelope("order.completed", order_completed("ord_o1", total_amount_minor=1000)),
        envelope("order.placed", order_placed("ord_o2", booker=booker, attendees=[], total_amount_minor=2000)),
        envelope("order.completed", order_completed("ord_o2", total_amount_minor=2000)),
    ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))
    customer_id = await holder_of(container, "email", "old@example.com")
    patched = await api.patch(
        f"/api/v1/businesses/{BUSINESS}/customers/{customer_id}",
        json={"last_name": "Old"},
        headers=bearer(settings, business_ids=(BUSINESS,)),
    )
    assert patched.status_code == 200, patched.text
    stream = [
        recorded
        for recorded in await container.event_store().load_stream(BUSINESS, customer_id)
        if isinstance(recorded.event, CustomerEvent)
    ]
    assert stream[-1].event_type == "CustomerProfileUpdated"  # needs no history itself

    async def folded(events) -> dict:
        reference = InMemoryCustomerViews()
        await ProjectCustomerDetails(
            reference, container.event_store(), InMemoryCustomerCache(), InMemorySegments()
        ).execute(events)
        return reference.views[customer_id]

    # Scratch collections holding the member as the projection stored it before its
    # histories moved out: the whole state, purchases and all.
    suffix = uuid.uuid4().hex[:8]
    database = container.database()
    names = {kind: f"t_insights_{kind}_{suffix}" for kind in ("members", "counts", "purchases")}
    before = await folded(stream[:-1])
    assert len(before.purchases.orders) == 2
    await database[names["members"]].insert_one(
        {
            "_id": customer_id,
            "business_id": BUSINESS,
            "version": before.version,
            "state": before.model_dump(mode="python"),
        }
    )
    insights = MongoInsights(database, names["members"], names["counts"], names["purchases"])
    projection = ProjectCustomerDetails(insights, container.event_store(), InMemoryCustomerCache(), NoSegmentsKept())
    try:
        await projection.execute(stream[-1:])
        await projection.execute(stream)  # all duplicates now: nothing changes

        member = await database[names["members"]].find_one({"_id": customer_id})
        assert "purchases" not in member["state"]
        assert member["version"] == stream[-1].version
        stored = (await insights.get_many([customer_id]))[customer_id]
        history = (await insights.purchases_of({customer_id: BUSINESS}))[customer_id]
        expected = await folded(stream)
        assert stored.model_copy(update={"purchases": history}).model_dump() == expected.model_dump()
        assert await database[names["purchases"]].count_documents({"customer_id": customer_id}) == 2
    finally:
        for name in names.values():
            await database.drop_collection(name)


def test_the_purchase_records_collection_is_one_of_the_projections_documents():
    from infrastructure.projection_registry import PROJECTIONS

    assert InsightsPurchase in PROJECTIONS["insights"].documents


async def test_insights_refuse_a_position_the_business_never_reached_and_other_tenants(api, settings):
    assert (await api.get(f"{BASE}/insights", params={"min_position": 99}, headers=bearer(settings))).status_code == 422
    other = bearer(settings, business_ids=("biz_2",))
    assert (await api.get(f"{BASE}/insights", headers=other)).status_code == 404
