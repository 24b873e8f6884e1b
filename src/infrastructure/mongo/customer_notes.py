"""The notes of the customer-details read model (`customer_notes`), as a page reads them."""

from collections.abc import Mapping

from pymongo.asynchronous.database import AsyncDatabase

from application.ports import CustomerNotes, NumberedNote
from infrastructure.mongo.documents import CustomerNote
from infrastructure.mongo.read_model_generations import CollectionName, collection_of


class MongoCustomerNotes(CustomerNotes):
    def __init__(self, database: AsyncDatabase, collection: str | CollectionName = CustomerNote.Settings.name):
        self._collection = collection_of(database, collection)

    async def numbered(self, business_id: str, ranges: Mapping[str, tuple[int, int]]) -> list[NumberedNote]:
        # The `_id`s are known (`<customer>/<number>`): the server looks up exactly those.
        ids = [
            f"{customer_id}/{number}"
            for customer_id, (first, last) in ranges.items()
            for number in range(first, last + 1)
        ]
        cursor = (await self._collection()).find({"_id": {"$in": ids}, "business_id": business_id})
        return [NumberedNote.model_validate(document) async for document in cursor]
