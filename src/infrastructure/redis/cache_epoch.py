"""The cache epoch: a counter in MongoDB that every cache key carries.

A refresh the projector could not write (Redis away) would leave an entry older than the
read model. Instead of that entry, the projector moves the epoch on: every key of the
old epoch is then never read again (it expires). API processes read the epoch at most
once per `refresh_seconds`, which bounds how long a stale entry can still be served
once Redis is back.
"""

import time

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

EPOCH_ID = "customer_cache"


class CacheEpoch:
    def __init__(self, database: AsyncDatabase, refresh_seconds: float):
        self._epochs = database["cache_epochs"]
        self._refresh = refresh_seconds
        self._value = 0
        self._read_at = float("-inf")

    async def current(self) -> int:
        if time.monotonic() - self._read_at >= self._refresh:
            document = await self._epochs.find_one({"_id": EPOCH_ID})
            self._value = document["value"] if document else 0
            self._read_at = time.monotonic()
        return self._value

    async def advance(self) -> None:
        document = await self._epochs.find_one_and_update(
            {"_id": EPOCH_ID}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        self._value, self._read_at = document["value"], time.monotonic()
