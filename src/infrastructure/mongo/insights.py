"""The insights read model: each customer's last-seen state (`insights_members`), its
purchase history outside it, one document per order and per payment (`insights_purchases`,
as `customer_purchases` for the views), and the business's facts, summed (`insights`). A
batch's members and the facts they change are written in one transaction, so the sums are
exactly those of the members."""

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pymongo
from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from application.errors import VersionConflict
from application.insights.facts import fact_changes
from application.insights.get_insights import InsightCounts
from application.ports import CustomerViewWriter, ViewChange
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import CustomerState
from infrastructure.mongo.customer_purchases import histories_of, purchase_writes
from infrastructure.mongo.documents import InsightsCounts, InsightsMember, InsightsPurchase
from infrastructure.mongo.read_model_generations import CollectionName, collection_of
from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS

SHARDS = 8


class MongoInsights(CustomerViewWriter, InsightCounts):
    def __init__(
        self,
        database: AsyncDatabase,
        members: str | CollectionName = InsightsMember.Settings.name,
        counts: str | CollectionName = InsightsCounts.Settings.name,
        purchases: str | CollectionName = InsightsPurchase.Settings.name,
    ):
        self._client = database.client
        self._members = collection_of(database, members)
        self._counts = collection_of(database, counts)
        self._purchases = collection_of(database, purchases)
        # Members `get_many` found stored with their history inside (written before it moved
        # out): their first save writes all of its records, not only those the batch changed.
        self._embedded: set[str] = set()

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        cursor = (await self._members()).find({"_id": {"$in": list(customer_ids)}})
        found: dict[str, CustomerState] = {}
        async for document in cursor:
            found[document["_id"]] = CustomerState.model_validate(document["state"])
            if found[document["_id"]].purchases != PurchaseHistory():
                self._embedded.add(document["_id"])
        return found

    async def purchases_of(self, customers: Mapping[str, str]) -> dict[str, PurchaseHistory]:
        return await histories_of(await self._purchases(), customers) if customers else {}

    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        if not changes:
            return
        # The purchase records first, outside the members' transaction: writing them is
        # idempotent, so a batch that fails after them is applied again, and a member never
        # holds metrics whose records are not there.
        if purchases := purchase_writes(self._record_changes(changes)):
            await (await self._purchases()).bulk_write(purchases, ordered=False)
        members, counts = await self._members(), await self._counts()
        operations: list[InsertOne | UpdateOne] = []
        sums: dict[str, Counter[str]] = {}  # business -> fact changes
        for customer_id, change in changes.items():
            document = {"business_id": change.after.business_id, "version": change.after.version,
                        "state": change.after.model_dump(mode="python", exclude={"purchases"})}  # fmt: skip
            if change.before is None:
                operations.append(InsertOne({"_id": customer_id, **document}))
            else:
                operations.append(
                    UpdateOne({"_id": customer_id, "version": change.expected_version}, {"$set": document})
                )
            sums.setdefault(change.after.business_id, Counter()).update(fact_changes(change.before, change.after))

        expected_matches = sum(isinstance(operation, UpdateOne) for operation in operations)

        moved = {business_id: facts for business_id, facts in sorted(sums.items()) if any(facts.values())}

        async def write(session: AsyncClientSession | None) -> None:
            result = await members.bulk_write(operations, ordered=False, session=session)
            if result.matched_count != expected_matches:
                raise VersionConflict("insights", -1)
            if moved:
                await counts.bulk_write(_count_updates(moved, random.randrange(SHARDS)), ordered=False, session=session)

        try:
            if not moved:
                # Most changes (a note, a preference) move no count: each member is guarded
                # by its version alone, so no transaction (and its commit round trip).
                await write(None)
            else:
                with pymongo.timeout(TRANSACTION_SECONDS):
                    async with self._client.start_session() as session:
                        await session.with_transaction(write)
        except BulkWriteError as error:
            raise VersionConflict("insights", -1) from error
        self._embedded.difference_update(changes)  # stored without their histories now

    def _record_changes(self, changes: Mapping[str, ViewChange]) -> list[ViewChange]:
        """The changes whose records to write: a member stored with its history inside has
        none of them written yet, so all of its records are."""
        return [
            ViewChange(change.before.model_copy(update={"purchases": PurchaseHistory()}), change.after)
            if change.before is not None and customer_id in self._embedded
            else change
            for customer_id, change in changes.items()
        ]

    async def totals(self, business_id: str) -> Counter[str]:
        totals: Counter[str] = Counter()
        async for document in (await self._counts()).find({"business_id": business_id}):
            totals.update(_flat(document.get("facts", {})))
        return totals


def _count_updates(moved: dict[str, Counter[str]], shard: int) -> list[UpdateOne]:
    """`$inc` of one count shard per business. A business's insights are the sum of its
    shards, so any shard may take a change: each transaction attempt picks one at random,
    which keeps concurrent partitions and replicas off each other's documents."""
    return [
        UpdateOne(
            {"_id": f"{business_id}|{shard}"},
            {
                "$inc": {f"facts.{key}": value for key, value in facts.items() if value},
                "$setOnInsert": {"business_id": business_id},
            },
            upsert=True,
        )  # fmt: skip
        for business_id, facts in moved.items()
    ]


def _flat(facts: dict[str, Any], prefix: str = "") -> dict[str, int]:
    """`{"type": {"new": 2}}` is `{"type.new": 2}` (MongoDB nests dotted `$inc` paths)."""
    flat: dict[str, int] = {}
    for key, value in facts.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
