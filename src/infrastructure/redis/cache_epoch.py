"""The cache epoch: a counter in MongoDB that every cache key carries.

A refresh the projector could not write (Redis away) would leave an entry older than the
read model. Instead of that entry, the projector moves the epoch on: every key of the
old epoch is then never read again (it expires). API processes use an epoch read at most
`refresh_seconds` ago (re-read ahead of need, see `RefreshAhead`), which bounds how long
a stale entry can still be served once Redis is back.
"""

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.refresh_ahead import RefreshAhead

EPOCH_ID = "customer_cache"


class CacheEpoch:
    def __init__(self, database: AsyncDatabase, refresh_seconds: float):
        self._epochs = database["cache_epochs"]
        # Re-read ahead of need: a GET does not wait for this read.
        self._value = RefreshAhead(self._read, refresh_seconds, "cache epoch")

    async def current(self) -> int:
        return await self._value.get()

    async def _read(self) -> int:
        document = await self._epochs.find_one({"_id": EPOCH_ID})
        return document["value"] if document else 0

    async def advance(self) -> None:
        document = await self._epochs.find_one_and_update(
            {"_id": EPOCH_ID}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        self._value.set(document["value"])
