"""One data key per customer, stored wrapped by a master key in `customer_keys`.

Destroying it (erasure) makes every sealed field of that customer's events unreadable:
crypto-shredding, which reaches the copies in backups too.
"""

import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.crypto.master_keys import MasterKeys
from infrastructure.mongo.documents import CustomerDataKey

# Unwrapped keys are kept this long in memory. Another process may go on decrypting an
# erased customer's older events for at most this long; nothing re-materializes them,
# because the erasure event is applied after them.
CACHE_SECONDS = 5.0


class CustomerKeyring:
    def __init__(self, database: AsyncDatabase, master_keys: MasterKeys):
        self._keys = database[CustomerDataKey.Settings.name]
        self._master_keys = master_keys
        self._cache: dict[str, tuple[float, bytes]] = {}

    def new_key(self, customer_id: str) -> tuple[bytes, dict]:
        """A key for a new customer and the document that stores it (wrapped), which the
        event store writes in the transaction of the customer's first events."""
        key = os.urandom(32)
        master_id, wrapped = self._master_keys.wrap(key, customer_id)
        document = {"_id": customer_id, "master_key_id": master_id, "wrapped": wrapped, "created_at": datetime.now(UTC)}
        return key, document

    async def keys_for_writing(self, customer_ids: Iterable[str]) -> dict[str, bytes]:
        """The keys of existing customers (one read for those not cached); a customer whose
        key is missing (written before keys, or erased) gets one."""
        found = await self.keys_for_reading(customer_ids)
        for customer_id, key in found.items():
            if key is None:
                found[customer_id] = await self._create(customer_id)
        return found  # type: ignore[return-value]

    async def _create(self, customer_id: str) -> bytes:
        master_id, wrapped = self._master_keys.wrap(os.urandom(32), customer_id)
        # The document after the upsert is the stored key, ours or one written meanwhile.
        document = await self._keys.find_one_and_update(
            {"_id": customer_id},
            {"$setOnInsert": {"master_key_id": master_id, "wrapped": wrapped, "created_at": datetime.now(UTC)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return self._remember(document)

    async def keys_for_reading(self, customer_ids: Iterable[str]) -> dict[str, bytes | None]:
        """Each customer's key, or None once destroyed."""
        wanted = set(customer_ids)
        found = {customer_id: self._cached(customer_id) for customer_id in wanted}
        missing = [customer_id for customer_id, key in found.items() if key is None]
        if missing:
            async for document in self._keys.find({"_id": {"$in": missing}}):
                found[document["_id"]] = self._remember(document)
        return found

    def _remember(self, document: dict) -> bytes:
        key = self._master_keys.unwrap(document["master_key_id"], document["wrapped"], document["_id"])
        self._cache[document["_id"]] = (time.monotonic() + CACHE_SECONDS, key)
        return key

    def forget(self, customer_ids: Iterable[str]) -> None:
        """Drops cached keys (the event store destroyed them in an erasure)."""
        for customer_id in customer_ids:
            self._cache.pop(customer_id, None)

    async def rotate(self, on_progress=None) -> int:
        """Re-wraps every data key not wrapped by the active master key; returns how many."""
        rotated = 0
        query = {"master_key_id": {"$ne": self._master_keys.active_id}}
        total = await self._keys.count_documents(query)
        async for document in self._keys.find(query):
            key = self._master_keys.unwrap(document["master_key_id"], document["wrapped"], document["_id"])
            master_id, wrapped = self._master_keys.wrap(key, document["_id"])
            await self._keys.update_one(
                {"_id": document["_id"], "master_key_id": document["master_key_id"]},
                {"$set": {"master_key_id": master_id, "wrapped": wrapped}},
            )
            rotated += 1
            if on_progress is not None:
                on_progress(rotated, total)
        return rotated

    def _cached(self, customer_id: str) -> bytes | None:
        entry = self._cache.get(customer_id)
        if entry is None or entry[0] < time.monotonic():
            self._cache.pop(customer_id, None)
            return None
        return entry[1]
