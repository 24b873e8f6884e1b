"""A business with a region of its own reads local phone numbers in it, over HTTP and in
the order service's messages alike: one number, one E.164 form, one customer."""

import pytest

from tests.inbound import Publisher, customer_events, envelope, holder_of, order_placed, wait_until_processed
from tests.tokens import bearer

pytestmark = pytest.mark.integration
UK_BUSINESS = "biz_uk"


@pytest.fixture
def settings(settings):
    """The deployment's default stays PT; this business reads its phones as British."""
    return settings.model_copy(update={"regions_by_business": {UK_BUSINESS: "GB"}})


async def test_http_and_order_messages_read_a_local_number_in_the_business_region(api, container, workers, settings):
    headers = bearer(settings, business_ids=(UK_BUSINESS, "biz_1"))
    registered = await api.post(
        f"/api/v1/businesses/{UK_BUSINESS}/customers",
        json={"first_name": "Olivia", "phone": "07911 123456"},
        headers=headers,
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["phone"] == "+447911123456"
    elsewhere = await api.post("/api/v1/businesses/biz_1/customers", json={"phone": "912 345 678"}, headers=headers)
    assert elsewhere.json()["phone"] == "+351912345678"

    placed = envelope(
        "order.placed",
        order_placed("ord_uk", booker=None, attendees=[{"first_name": "Olivia", "phone": "07911-123-456"}]),
        business_id=UK_BUSINESS,
    )
    async with Publisher(container) as publisher:
        await publisher.publish(placed)
    await wait_until_processed(container, placed["event_id"])

    olivia = registered.json()["id"]
    assert await holder_of(container, "phone", "+447911123456", UK_BUSINESS) == olivia
    linked = await customer_events(container, "OrderLinked")
    assert [event["stream_id"] for event in linked] == [olivia]
    assert len(await customer_events(container, "CustomerRegistered")) == 2  # Olivia, and the one of biz_1
