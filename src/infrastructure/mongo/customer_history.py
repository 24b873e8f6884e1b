from collections.abc import Sequence

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import CustomerHistory, HistoryEntry
from infrastructure.mongo.documents import CustomerHistoryEntry


class MongoCustomerHistory(CustomerHistory):
    def __init__(self, database: AsyncDatabase, collection: str = CustomerHistoryEntry.Settings.name):
        # Another collection than the live one only for a rebuild or a verify.
        self._entries = database[collection]

    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        # $setOnInsert keyed by event id: a redelivered event changes nothing.
        await self._entries.bulk_write(
            [
                UpdateOne({"_id": entry.event_id}, {"$setOnInsert": entry.model_dump(exclude={"event_id"})}, upsert=True)
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
        cursor = self._entries.find(query).sort("version", -1).limit(limit)
        return [HistoryEntry.model_validate({**document, "event_id": document["_id"]}) async for document in cursor]
