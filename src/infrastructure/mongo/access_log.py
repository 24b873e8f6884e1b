from pymongo.asynchronous.database import AsyncDatabase

from application.ports import AccessLog, AccessRecord
from infrastructure.mongo.documents import AccessLogEntry


class MongoAccessLog(AccessLog):
    def __init__(self, database: AsyncDatabase):
        self._entries = database[AccessLogEntry.Settings.name]

    async def record(self, record: AccessRecord) -> None:
        await self._entries.insert_one(record.model_dump())

    async def about(self, business_id: str, customer_id: str | None, limit: int) -> list[AccessRecord]:
        query: dict = {"business_id": business_id}
        if customer_id is not None:
            query["customer_ids"] = customer_id
        cursor = self._entries.find(query, projection={"_id": 0}).sort("at", -1).limit(limit)
        return [AccessRecord.model_validate(document) async for document in cursor]
