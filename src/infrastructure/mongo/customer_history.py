from collections.abc import Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import CustomerHistory, HistoryEntry
from infrastructure.mongo.documents import CustomerHistoryEntry
from infrastructure.mongo.read_model_generations import CollectionName, collection_of


class MongoCustomerHistory(CustomerHistory):
    def __init__(self, database: AsyncDatabase, collection: str | CollectionName = CustomerHistoryEntry.Settings.name):
        # The live read generation, or one collection (a rebuild's, a verify's, a generation).
        self._collection = collection_of(database, collection)

    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        # $setOnInsert keyed by event id: a redelivered event changes nothing.
        await (await self._collection()).bulk_write(
            [
                UpdateOne(
                    {"_id": entry.event_id}, {"$setOnInsert": entry.model_dump(exclude={"event_id"})}, upsert=True
                )
                for entry in entries
            ],
            ordered=False,
        )

    async def page(
        self, business_id: str, customer_id: str, before_version: int | None, limit: int
    ) -> list[HistoryEntry]:
        query: dict = {"business_id": business_id, "customer_id": customer_id}
        if before_version is not None:
            query["version"] = {"$lt": before_version}
        cursor = (await self._collection()).find(query).sort("version", -1).limit(limit)
        return [HistoryEntry.model_validate({**document, "event_id": document["_id"]}) async for document in cursor]
