from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from application.errors import VersionConflict
from application.ports import CustomerViewStore
from application.projections.customer_query_fields import derive_query_fields
from domain.customer.aggregate import CustomerState
from domain.customer.profile import CustomerStatus
from infrastructure.mongo.documents import CustomerView


def view_document(state: CustomerState) -> dict[str, Any]:
    """The stored view of a customer, without its `_id`."""
    fields = derive_query_fields(state)
    return {
        "business_id": state.business_id,
        "version": state.version,
        "state": state.model_dump(mode="python"),
        "status": state.status.value,
        "lookup_keys": fields.lookup_keys,
        "search_words": fields.search_words,
        "sort": {field.value: key for field, key in fields.sort_keys.items()},
    }


class MongoCustomerViewStore(CustomerViewStore):
    def __init__(self, database: AsyncDatabase, collection: str = CustomerView.Settings.name):
        # Another collection than the live one only for a rebuild or a verify.
        self._views = database[collection]

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        document = await self._views.find_one({"_id": customer_id, "business_id": business_id})
        return CustomerState.model_validate(document["state"]) if document else None

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        cursor = self._views.find({"_id": {"$in": list(customer_ids)}})
        return {document["_id"]: CustomerState.model_validate(document["state"]) async for document in cursor}

    async def deleted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        cursor = (
            self._views.find(
                {"status": CustomerStatus.DELETED.value, "state.deleted_at": {"$lt": cutoff}},
                projection={"business_id": 1},
            )
            .sort("state.deleted_at", 1)
            .limit(limit)
        )
        return [(document["business_id"], document["_id"]) async for document in cursor]

    async def save_many(self, views: Mapping[str, tuple[int, CustomerState]]) -> None:
        if not views:
            return
        operations: list[InsertOne | UpdateOne] = []
        for customer_id, (expected_version, state) in views.items():
            document = view_document(state)
            if expected_version == 0:
                operations.append(InsertOne({"_id": customer_id, **document}))
            else:
                operations.append(UpdateOne({"_id": customer_id, "version": expected_version}, {"$set": document}))
        try:
            result = await self._views.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            raise VersionConflict("customer_details", -1) from error
        expected_updates = sum(isinstance(operation, UpdateOne) for operation in operations)
        if result.matched_count != expected_updates:
            raise VersionConflict("customer_details", -1)
