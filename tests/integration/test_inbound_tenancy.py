"""Order and payment messages of one business can't reach another business's customers,
not even by naming their ids, emails or phones."""

import pytest

from tests.inbound import (
    BUSINESS,
    Publisher,
    envelope,
    holder_of,
    order_completed,
    order_placed,
    payment_succeeded,
    wait_until_processed,
)
from tests.tokens import bearer

pytestmark = pytest.mark.integration
VICTIM_BUSINESS = "biz_victim"


@pytest.fixture(autouse=True)
def running_workers(workers):
    return workers


async def test_messages_naming_another_business_customer_create_or_match_only_in_their_own(api, container, settings):
    victim = await api.post(
        f"/api/v1/businesses/{VICTIM_BUSINESS}/customers",
        json={"first_name": "Ana", "email": "ana.silva@example.com", "phone": "912345678"},
        headers=bearer(settings, business_ids=(VICTIM_BUSINESS,)),
    )
    assert victim.status_code == 201, victim.text
    victim_id = victim.json()["id"]

    person = {"customer_id": victim_id, "email": "ana.silva@example.com", "phone": "912345678", "first_name": "Ana"}
    messages = [
        envelope("order.placed", order_placed(booker=person, attendees=[person, {"customer_id": victim_id}])),
        envelope("payment.succeeded", payment_succeeded(payer={"customer_id": victim_id})),
        envelope("order.completed", order_completed()),
        envelope("order.placed", order_placed("ord_2", booker={"customer_id": victim_id}, attendees=[])),
    ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))

    # The victim's stream holds its registration only, and nothing else names it.
    events = container.database()["events"]
    assert await events.count_documents({"stream_id": victim_id}) == 1
    assert await events.count_documents({"business_id": VICTIM_BUSINESS}) == 1
    # The messages' business got a customer of its own for Ana.
    own = await holder_of(container, "email", "ana.silva@example.com", business_id=BUSINESS)
    assert own is not None and own != victim_id
    assert await holder_of(container, "email", "ana.silva@example.com", business_id=VICTIM_BUSINESS) == victim_id
    read = await api.get(
        f"/api/v1/businesses/{VICTIM_BUSINESS}/customers/{victim_id}",
        headers=bearer(settings, business_ids=(VICTIM_BUSINESS,)),
    )
    assert (read.json()["version"], read.json()["metrics"]["total_purchases"]) == (1, 0)
