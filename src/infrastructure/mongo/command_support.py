"""Idempotency outcomes, snapshots, contact keys and processed messages: the write side's
reads besides the event stream."""

from collections.abc import Collection, Sequence
from functools import reduce

from pymongo.asynchronous.database import AsyncDatabase

from application.commits import StoredOutcome
from application.ports import ContactKeyHolders, IdempotencyOutcomes, ProcessedMessages, Snapshots
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import CustomerState
from infrastructure.crypto.contact_key_ids import ContactKeyIds
from infrastructure.mongo.customer_purchases import histories_of
from infrastructure.mongo.documents import (
    ContactKeyHolder,
    CustomerSnapshot,
    IdempotencyOutcome,
    ProcessedMessage,
    PurchaseRecord,
)
from infrastructure.mongo.snapshot_shape import snapshot_shape


class MongoIdempotencyOutcomes(IdempotencyOutcomes):
    def __init__(self, database: AsyncDatabase):
        self._outcomes = database[IdempotencyOutcome.Settings.name]

    async def find(self, key: str) -> StoredOutcome | None:
        document = await self._outcomes.find_one({"_id": key})
        return StoredOutcome.model_validate(document) if document else None


class MongoSnapshots(Snapshots):
    """Reads the snapshots the event store writes with each append of a customer, and the
    purchase records it writes beside them."""

    def __init__(self, database: AsyncDatabase):
        self._snapshots = database[CustomerSnapshot.Settings.name]
        self._purchase_records = database[PurchaseRecord.Settings.name]

    async def load(self, business_id: str, customer_id: str, with_purchases: bool) -> CustomerState | None:
        document = await self._snapshots.find_one({"_id": customer_id, "business_id": business_id})
        if document is None or document.get("shape") != snapshot_shape():
            return None
        state = CustomerState.model_validate(document["state"])
        if with_purchases and state.purchase_records:
            # Its own records, and those of the customers merged into it (one read).
            owners = {owner: business_id for owner in (customer_id, *state.history_owners)}
            histories = (await histories_of(self._purchase_records, owners)).values()
            state = state.model_copy(update={"purchases": reduce(PurchaseHistory.merged_with, histories)})
        return state

    async def records_written(self, business_id: str, customer_id: str) -> bool:
        # Code before records kept no count of them in the state.
        document = await self._snapshots.find_one(
            {"_id": customer_id, "business_id": business_id}, projection={"state.purchase_records": 1}
        )
        return document is not None and "purchase_records" in document.get("state", {})


class MongoContactKeyHolders(ContactKeyHolders):
    def __init__(self, database: AsyncDatabase, contact_key_ids: ContactKeyIds):
        self._contact_keys = database[ContactKeyHolder.Settings.name]
        self._contact_key_ids = contact_key_ids

    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        document = await self._contact_keys.find_one({"_id": self._contact_key_ids.id_for(business_id, kind, value)})
        return document["customer_id"] if document else None

    async def holders(self, business_id: str, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        # One read by `_id` for the lot (a bulk import asks for a chunk's keys at once).
        ids = {self._contact_key_ids.id_for(business_id, kind, value): (kind, value) for kind, value in keys}
        if not ids:
            return {}
        cursor = self._contact_keys.find({"_id": {"$in": list(ids)}}, projection={"customer_id": 1})
        return {ids[document["_id"]]: document["customer_id"] async for document in cursor}


class MongoProcessedMessages(ProcessedMessages):
    def __init__(self, database: AsyncDatabase):
        self._processed = database[ProcessedMessage.Settings.name]

    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        if not message_ids:
            return set()
        cursor = self._processed.find({"_id": {"$in": list(message_ids)}}, projection={"_id": 1})
        return {document["_id"] async for document in cursor}
