"""Idempotency outcomes, snapshots, contact keys and processed messages: the write side's
reads besides the event stream."""

import hashlib
import json
from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from application.commits import StoredOutcome
from application.ports import ContactKeyHolders, IdempotencyOutcomes, ProcessedMessages, Snapshots
from domain.customer.aggregate import Customer, CustomerState
from infrastructure.mongo.documents import ContactKeyHolder, CustomerSnapshot, IdempotencyOutcome, ProcessedMessage
from infrastructure.crypto.contact_key_ids import ContactKeyIds


class MongoIdempotencyOutcomes(IdempotencyOutcomes):
    def __init__(self, database: AsyncDatabase):
        self._outcomes = database[IdempotencyOutcome.Settings.name]

    async def find(self, key: str) -> StoredOutcome | None:
        document = await self._outcomes.find_one({"_id": key})
        return StoredOutcome.model_validate(document) if document else None


def snapshot_shape() -> str:
    """Identifies the code that wrote a snapshot: the aggregate's declared snapshot version
    (bumped when `apply` changes meaning) and the JSON schema of its state (which changes
    by itself when a field is added, removed or retyped). A snapshot of another shape is
    ignored, and the customer is loaded from its events."""
    schema = json.dumps(CustomerState.model_json_schema(), sort_keys=True)
    return f"{Customer.SNAPSHOT_VERSION}:{hashlib.sha256(schema.encode()).hexdigest()[:16]}"


class MongoSnapshots(Snapshots):
    def __init__(self, database: AsyncDatabase):
        self._snapshots = database[CustomerSnapshot.Settings.name]
        self._shape = snapshot_shape()

    async def load(self, customer_id: str) -> CustomerState | None:
        document = await self._snapshots.find_one({"_id": customer_id, "shape": self._shape})
        return CustomerState.model_validate(document["state"]) if document else None

    async def save(self, state: CustomerState) -> None:
        try:
            # Only ever moves forward: an older snapshot never replaces a newer one.
            await self._snapshots.update_one(
                {"_id": state.id, "$or": [{"version": {"$lt": state.version}}, {"shape": {"$ne": self._shape}}]},
                {"$set": {"version": state.version, "shape": self._shape, "state": state.model_dump(mode="python")}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a newer snapshot of the same shape is already there


class MongoContactKeyHolders(ContactKeyHolders):
    def __init__(self, database: AsyncDatabase, contact_key_ids: ContactKeyIds):
        self._contact_keys = database[ContactKeyHolder.Settings.name]
        self._contact_key_ids = contact_key_ids

    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        document = await self._contact_keys.find_one({"_id": self._contact_key_ids.id_for(business_id, kind, value)})
        return document["customer_id"] if document else None


class MongoProcessedMessages(ProcessedMessages):
    def __init__(self, database: AsyncDatabase):
        self._processed = database[ProcessedMessage.Settings.name]

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        if not message_ids:
            return set()
        cursor = self._processed.find({"_id": {"$in": list(message_ids)}}, projection={"_id": 1})
        return {document["_id"] async for document in cursor}
