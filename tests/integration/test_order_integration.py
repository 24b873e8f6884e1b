"""The order and payment services' messages, published on the real RabbitMQ exactly as the
contract shows them, consumed by the integration worker."""

import pytest

from tests.inbound import (
    BUSINESS,
    Publisher,
    customer_events,
    envelope,
    holder_of,
    next_message,
    order_completed,
    order_placed,
    payment_succeeded,
    refund,
    wait_until_processed,
)
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"


@pytest.fixture(autouse=True)
def running_workers(workers):
    return workers


async def read(api, settings, customer_id: str, min_version: int | None = None) -> dict:
    suffix = f"?min_version={min_version}" if min_version else ""
    response = await api.get(f"{CUSTOMERS}/{customer_id}{suffix}", headers=bearer(settings, business_ids=(BUSINESS,)))
    assert response.status_code == 200, response.text
    return response.json()


async def current_version(container, customer_id: str) -> int:
    return await container.event_store().stream_version(BUSINESS, customer_id)


async def test_a_message_delivered_three_times_is_applied_once(api, container, settings):
    placed = envelope("order.placed", order_placed())
    completed = envelope("order.completed", order_completed())
    async with Publisher(container) as publisher:
        for _ in range(3):
            await publisher.publish(placed)
        for _ in range(3):
            await publisher.publish(completed)
        # Consumed in order from one queue: once this is done, so are the redeliveries.
        sentinel = envelope(
            "order.placed", order_placed("ord_sentinel", booker=None, attendees=[{"first_name": "Zoe"}])
        )
        await publisher.publish(sentinel)
    await wait_until_processed(container, placed["event_id"], completed["event_id"], sentinel["event_id"])

    ana = await holder_of(container, "email", "ana.silva@example.com")
    assert ana is not None
    assert len(await customer_events(container, "OrderLinked")) == 3  # Ana, Rui, and Zoe of the sentinel
    assert len(await customer_events(container, "OrderCompleted")) == 2  # Ana and Rui, once each
    metrics = (await read(api, settings, ana, await current_version(container, ana)))["metrics"]
    assert metrics["total_purchases"] == 1
    assert metrics["spend"]["EUR"] == {
        "total_minor": 4500,
        "refunded_minor": 0,
        "average_minor": 4500,
        "lifetime_value_minor": 4500,
    }
    assert await container.database()["processed_messages"].count_documents({}) == 3


async def test_a_completion_before_its_placement_gives_the_result_of_the_right_order(api, container, settings):
    in_order = [envelope("order.placed", order_placed("ord_a")), envelope("order.completed", order_completed("ord_a"))]
    reversed_ = [
        envelope("order.completed", order_completed("ord_b")),
        envelope(
            "order.placed",
            order_placed(
                "ord_b",
                booker={"email": "bea@example.com", "first_name": "Bea"},
                attendees=[{"first_name": "Bea", "email": "bea@example.com"}],
            ),
        ),
    ]
    async with Publisher(container) as publisher:
        for message in reversed_ + in_order:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in in_order + reversed_))

    ana = await holder_of(container, "email", "ana.silva@example.com")
    bea = await holder_of(container, "email", "bea@example.com")
    ana_view = await read(api, settings, ana, await current_version(container, ana))
    bea_view = await read(api, settings, bea, await current_version(container, bea))
    assert bea_view["metrics"] == ana_view["metrics"]
    assert bea_view["metrics"]["total_purchases"] == 1 and bea_view["metrics"]["open_orders"] == 0
    purchases = await api.get(f"{CUSTOMERS}/{bea}/purchases", headers=bearer(settings, business_ids=(BUSINESS,)))
    assert purchases.status_code == 200
    [order] = purchases.json()["orders"]
    assert (order["order_id"], order["status"], order["purchaser"]) == ("ord_b", "completed", True)


async def test_two_attendees_sharing_a_phone_are_one_customer(api, container, settings):
    placed = envelope(
        "order.placed",
        order_placed(
            "ord_p",
            booker=None,
            attendees=[
                {"first_name": "Rui", "phone": "912345679"},
                {"first_name": "Rita", "last_name": "Costa", "phone": "+351 912 345 679"},
            ],
        ),
    )
    async with Publisher(container) as publisher:
        await publisher.publish(placed)
    await wait_until_processed(container, placed["event_id"])

    assert len(await customer_events(container, "CustomerRegistered")) == 1
    rui = await holder_of(container, "phone", "+351912345679")
    view = await read(api, settings, rui, await current_version(container, rui))
    # The first attendee created the customer; the second only added the missing last name.
    assert (view["first_name"], view["last_name"], view["type"]) == ("Rui", "Costa", "unregistered")
    assert view["metrics"]["open_orders"] == 1


async def test_a_payer_is_matched_by_a_phone_in_another_format(api, container, settings):
    created = await api.post(
        CUSTOMERS,
        json={"first_name": "Ana", "phone": "912 345 678"},
        headers=bearer(settings, business_ids=(BUSINESS,)),
    )
    assert created.status_code == 201
    paid = envelope("payment.succeeded", payment_succeeded(order_id=None, payer={"phone": "00351 912-345-678"}))
    async with Publisher(container) as publisher:
        await publisher.publish(paid)
    await wait_until_processed(container, paid["event_id"])

    assert len(await customer_events(container, "CustomerRegistered")) == 1
    customer_id = created.json()["id"]
    await read(api, settings, customer_id, await current_version(container, customer_id))
    purchases = (
        await api.get(f"{CUSTOMERS}/{customer_id}/purchases", headers=bearer(settings, business_ids=(BUSINESS,)))
    ).json()
    [payment] = purchases["payments"]
    assert (payment["payment_id"], payment["status"], payment["amount_minor"]) == ("pay_9001", "succeeded", 4500)


async def test_a_refund_in_two_parts_lowers_net_spend_even_when_one_part_comes_first(api, container, settings):
    messages = [
        envelope("payment.refunded", refund("rf_1", 1500)),  # before the payment it refunds
        envelope("order.placed", order_placed()),
        envelope("order.completed", order_completed()),
        envelope("payment.succeeded", payment_succeeded()),
        envelope("payment.refunded", refund("rf_2", 1000)),
    ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))

    ana = await holder_of(container, "email", "ana.silva@example.com")
    view = await read(api, settings, ana, await current_version(container, ana))
    assert view["metrics"]["spend"]["EUR"] == {
        "total_minor": 4500,
        "refunded_minor": 2500,
        "average_minor": 4500,
        "lifetime_value_minor": 2000,
    }
    metrics = await api.get(f"{CUSTOMERS}/{ana}/metrics", headers=bearer(settings, business_ids=(BUSINESS,)))
    assert metrics.json()["spend"] == view["metrics"]["spend"]


async def test_a_customer_with_an_open_order_cannot_be_deleted_until_it_completes(api, container, settings):
    placed = envelope("order.placed", order_placed())
    async with Publisher(container) as publisher:
        await publisher.publish(placed)
        await wait_until_processed(container, placed["event_id"])
        ana = await holder_of(container, "email", "ana.silva@example.com")
        manager = bearer(settings, business_ids=(BUSINESS,), roles=("manager",))
        refused = await api.delete(f"{CUSTOMERS}/{ana}", headers=manager)
        assert refused.status_code == 409, refused.text
        completed = envelope("order.completed", order_completed())
        await publisher.publish(completed)
    await wait_until_processed(container, completed["event_id"])
    assert (await api.delete(f"{CUSTOMERS}/{ana}", headers=manager)).status_code == 204


async def test_each_linked_customer_is_announced_as_order_linked_with_first_time(container):
    names = container.amqp_names()
    async with Publisher(container) as publisher:
        customers = await publisher.channel.declare_exchange(names.customers_exchange, "topic", durable=True)
        announced = await publisher.channel.declare_queue(exclusive=True)
        await announced.bind(customers, routing_key="customer.order_linked")
        first, second = envelope("order.placed", order_placed("ord_1")), envelope("order.placed", order_placed("ord_2"))
        # One after the other: two orders' messages may go to two partitions, handled in any order.
        await publisher.publish(first)
        await wait_until_processed(container, first["event_id"])
        await publisher.publish(second)
        await wait_until_processed(container, second["event_id"])
        bodies = []
        for _ in range(4):  # Ana and Rui, for each order
            message = await next_message(announced)
            bodies.append(message.body)
            await message.ack()
    import json

    linked = [json.loads(body) for body in bodies]
    ana = await holder_of(container, "email", "ana.silva@example.com")
    of_ana = sorted(
        (item["data"]["order_id"], item["data"]["first_time"]) for item in linked if item["customer_id"] == ana
    )
    assert of_ana == [("ord_1", True), ("ord_2", False)]
    snapshot = next(item["data"]["customer_snapshot"] for item in linked if item["customer_id"] == ana)
    assert (snapshot["id"], snapshot["email"], snapshot["type"]) == (ana, "ana.silva@example.com", "unregistered")
