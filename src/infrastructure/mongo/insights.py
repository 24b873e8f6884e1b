"""The insights read model: each customer's last-seen state (`insights_members`) and the
business's facts, summed (`insights`). A batch's members and the facts they change are
written in one transaction, so the sums are exactly those of the members."""

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
from domain.customer.state import CustomerState
from infrastructure.mongo.documents import InsightsCounts, InsightsMember
from infrastructure.mongo.read_model_generations import CollectionName, collection_of
from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS

SHARDS = 8


class MongoInsights(CustomerViewWriter, InsightCounts):
    def __init__(
        self,
        database: AsyncDatabase,
        members: str | CollectionName = InsightsMember.Settings.name,
        counts: str | CollectionName = InsightsCounts.Settings.name,
    ):
        self._client = database.client
        self._members = collection_of(database, members)
        self._counts = collection_of(database, counts)

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        cursor = (await self._members()).find({"_id": {"$in": list(customer_ids)}})
        return {document["_id"]: CustomerState.model_validate(document["state"]) async for document in cursor}

    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        if not changes:
            return
        members, counts = await self._members(), await self._counts()
        operations: list[InsertOne | UpdateOne] = []
        sums: dict[str, Counter[str]] = {}  # business -> fact changes
        for customer_id, change in changes.items():
            document = {"business_id": change.after.business_id, "version": change.after.version,
                        "state": change.after.model_dump(mode="python")}  # fmt: skip
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
                return
            with pymongo.timeout(TRANSACTION_SECONDS):
                async with self._client.start_session() as session:
                    await session.with_transaction(write)
        except BulkWriteError as error:
            raise VersionConflict("insights", -1) from error

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
