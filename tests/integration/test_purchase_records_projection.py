"""The customer-details projector keeps purchase histories outside the views, and reads one
back whenever it folds an event that needs it, also one it only learns of from a gap."""

import uuid

import pytest

from application.projections.customer_details import ProjectCustomerDetails
from domain.customer.events import CustomerEvent
from infrastructure.mongo.customer_views import MongoCustomerViewStore
from infrastructure.mongo.documents import CustomerPurchase
from infrastructure.mongo.segments import MongoSegments
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


async def test_a_batch_that_skips_purchase_events_reads_the_history_back_and_writes_what_changed(
    api, workers, container, settings
):
    booker = {"email": "gap@example.com", "first_name": "Gil"}
    messages = [
        envelope("order.placed", order_placed("ord_g1", booker=booker, attendees=[], total_amount_minor=1000)),
        envelope("order.completed", order_completed("ord_g1", total_amount_minor=1000)),
        envelope("order.placed", order_placed("ord_g2", booker=booker, attendees=[], total_amount_minor=2000)),
        envelope("order.completed", order_completed("ord_g2", total_amount_minor=2000)),
    ]
    async with Publisher(container) as publisher:
        for message in messages:
            await publisher.publish(message)
    await wait_until_processed(container, *(message["event_id"] for message in messages))
    customer_id = await holder_of(container, "email", "gap@example.com")
    patched = await api.patch(
        f"{CUSTOMERS}/{customer_id}", json={"last_name": "Gap"}, headers=bearer(settings, business_ids=(BUSINESS,))
    )
    assert patched.status_code == 200, patched.text
    stream = await container.event_store().load_stream(BUSINESS, customer_id)
    # Registered and the first order's link first; the last event needs no history itself.
    assert [recorded.event_type for recorded in stream[:2]] == ["CustomerRegistered", "OrderLinked"]
    assert stream[-1].event_type == "CustomerProfileUpdated"

    # A read model of its own, fed the stream's first events, then only its last one: the
    # events between (orders linked and completed) reach the projector as a gap.
    suffix = uuid.uuid4().hex[:8]
    database = container.database()
    names = {kind: f"t_{kind}_{suffix}" for kind in ("views", "search", "counts", "notes", "purchases", "segments")}
    views = MongoCustomerViewStore(
        database,
        names["views"],
        names["search"],
        MongoSegments(database, names["segments"], names["counts"]),
        names["counts"],
        names["notes"],
        names["purchases"],
    )
    projection = ProjectCustomerDetails(views, container.event_store(), InMemoryCustomerCache(), InMemorySegments())
    try:
        await projection.execute(stream[:2])
        await projection.execute(stream[-1:])
        await projection.execute(stream)  # all duplicates now: nothing changes

        reference = InMemoryCustomerViews()
        await ProjectCustomerDetails(
            reference, container.event_store(), InMemoryCustomerCache(), InMemorySegments()
        ).execute([recorded for recorded in stream if isinstance(recorded.event, CustomerEvent)])
        expected = reference.views[customer_id]

        stored = (await views.get_many([customer_id]))[customer_id]
        assert stored.purchases.orders == ()  # the view holds none of them
        history = (await views.purchases_of({customer_id: BUSINESS}))[customer_id]
        assert stored.model_copy(update={"purchases": history}).model_dump() == expected.model_dump()
        assert stored.metrics.total_purchases == 2
        records = await database[names["purchases"]].count_documents({"customer_id": customer_id})
        assert records == len(expected.purchases.orders) + len(expected.purchases.payments) == 2
    finally:
        for name in names.values():
            await database.drop_collection(name)


def test_the_records_collection_is_one_of_the_projections_documents():
    from infrastructure.projection_registry import PROJECTIONS

    assert CustomerPurchase in PROJECTIONS["customer_details"].documents
