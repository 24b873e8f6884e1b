"""The purchase histories of the customer-details read model (`customer_purchases`): one
document per order and per payment of a customer, outside its view. The write side keeps
the same documents (`customer_purchase_records`, `record_writes`) beside its snapshots.

The projector reads a customer's whole history only when a batch changes it (to fold the
purchase events), and writes back only the records that changed. A page reads one range
of one index: the customer's orders below the cursor's key, then the payments of those
orders and the payments of no order of the customer's own in the page's time window.
"""

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import DeleteOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from application.commits import PurchaseRecordChanges
from application.ports import CustomerPurchases, ViewChange
from application.queries.stored_times import utc
from domain.customer.purchases import OrderRecord, PaymentRecord, PurchaseHistory
from infrastructure.mongo.documents import CustomerPurchase
from infrastructure.mongo.read_model_generations import CollectionName, collection_of

ORDER, PAYMENT = "order", "payment"


def time_key(moment: datetime) -> str:
    """A UTC time as a fixed-width string: strings compare as the times do."""
    return f"{utc(moment).astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z"


def record_document(
    business_id: str, customer_id: str, record: OrderRecord | PaymentRecord
) -> tuple[str, dict[str, Any]]:
    """One order's or payment's document, and its `_id`."""
    if isinstance(record, OrderRecord):
        kind, record_id, at, order_id = ORDER, record.order_id, record.placed_at, record.order_id
    else:
        kind, record_id, at, order_id = PAYMENT, record.payment_id, record.at, record.order_id
    return f"{customer_id}/{kind}/{record_id}", {
        "business_id": business_id,
        "customer_id": customer_id,
        "kind": kind,
        "key": f"{time_key(at)}|{record_id}",
        "order_id": order_id,
        "record": record.model_dump(mode="python"),
    }


def purchase_documents(business_id: str, customer_id: str, history: PurchaseHistory) -> dict[str, dict[str, Any]]:
    """The documents of a history, by `_id`."""
    own_orders = {order.order_id for order in history.orders}
    documents = {}
    for order in history.orders:
        record_id, document = record_document(business_id, customer_id, order)
        documents[record_id] = {**document, "payer_only": False}
    for payment in history.payments:
        record_id, document = record_document(business_id, customer_id, payment)
        documents[record_id] = {**document, "payer_only": payment.order_id not in own_orders}
    return documents


def purchase_writes(changes: Iterable[ViewChange]) -> list[ReplaceOne | DeleteOne]:
    """The records each change made, changed or dropped (a merged-away customer's history
    moves to its target). Writing them twice changes nothing."""
    writes: list[ReplaceOne | DeleteOne] = []
    for change in changes:
        after = change.after
        before = change.before.purchases if change.before is not None else PurchaseHistory()
        if before == after.purchases:
            continue
        old = purchase_documents(after.business_id, after.id, before)
        new = purchase_documents(after.business_id, after.id, after.purchases)
        writes += [
            ReplaceOne({"_id": record_id}, {"_id": record_id, **document}, upsert=True)
            for record_id, document in new.items()
            if old.get(record_id) != document
        ]
        writes += [DeleteOne({"_id": record_id}) for record_id in old.keys() - new.keys()]
    return writes


def record_writes(business_id: str, customer_id: str, changes: PurchaseRecordChanges) -> list[ReplaceOne]:
    """The write side's writes of one commit's changes to a customer's records."""
    return [
        ReplaceOne({"_id": record_id}, document, upsert=True)
        for record_id, document in (
            record_document(business_id, customer_id, record) for record in (*changes.orders, *changes.payments)
        )
    ]


async def histories_of(collection, customers: Mapping[str, str]) -> dict[str, PurchaseHistory]:
    """The whole history of each customer (id -> business id), one read per business."""
    by_business: dict[str, list[str]] = {}
    for customer_id, business_id in customers.items():
        by_business.setdefault(business_id, []).append(customer_id)
    orders: dict[str, list[OrderRecord]] = {customer_id: [] for customer_id in customers}
    payments: dict[str, list[PaymentRecord]] = {customer_id: [] for customer_id in customers}
    for business_id, customer_ids in by_business.items():
        async for document in collection.find({"business_id": business_id, "customer_id": {"$in": customer_ids}}):
            if document["kind"] == ORDER:
                orders[document["customer_id"]].append(OrderRecord.model_validate(document["record"]))
            else:
                payments[document["customer_id"]].append(PaymentRecord.model_validate(document["record"]))
    return {
        customer_id: PurchaseHistory().with_orders(orders[customer_id]).with_payments(payments[customer_id])
        for customer_id in customers
    }


class MongoCustomerPurchases(CustomerPurchases):
    def __init__(self, database: AsyncDatabase, collection: str | CollectionName = CustomerPurchase.Settings.name):
        self._collection = collection_of(database, collection)

    async def orders(
        self, business_id: str, customer_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[OrderRecord]:
        query: dict[str, Any] = {"business_id": business_id, "customer_id": customer_id, "kind": ORDER}
        if before is not None:
            query["key"] = {"$lt": f"{time_key(before[0])}|{before[1]}"}
        cursor = (await self._collection()).find(query).sort("key", -1).limit(limit)
        return [OrderRecord.model_validate(document["record"]) async for document in cursor]

    async def payments(
        self,
        business_id: str,
        customer_id: str,
        order_ids: Collection[str],
        since: datetime | None,
        until: datetime | None,
    ) -> list[PaymentRecord]:
        collection = await self._collection()
        customer = {"business_id": business_id, "customer_id": customer_id}
        found = []
        if order_ids:
            found += [
                document
                async for document in collection.find(
                    {**customer, "order_id": {"$in": list(order_ids)}, "kind": PAYMENT}
                )
            ]
        window: dict[str, str] = {}
        if since is not None:
            window["$gte"] = time_key(since)
        if until is not None:
            window["$lt"] = time_key(until)
        paid_only = {**customer, "kind": PAYMENT, **({"key": window} if window else {}), "payer_only": True}
        found += [document async for document in collection.find(paid_only)]
        return [PaymentRecord.model_validate(document["record"]) for document in found]
