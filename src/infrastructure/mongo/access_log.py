import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from application.ports import AccessLog, AccessLogQuery, AccessLogSlice, AccessRecord
from infrastructure.mongo.documents import AccessLogEntry

MAX_CUSTOMERS_PER_ENTRY = 200_000
# Nothing is older: the service did not exist before.
FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
MIN_WINDOW_SECONDS = 1.0
MAX_WINDOW_SECONDS = 30 * 366 * 24 * 3600.0
GROWTH = 8
# From a 1 s window to the floor in one request, for a sparse log.
MAX_QUERIES = 14


class MongoAccessLog(AccessLog):
    def __init__(self, database: AsyncDatabase):
        self._entries = database[AccessLogEntry.Settings.name]

    async def record(self, record: AccessRecord) -> None:
        # A string id, as the spool gives: ids compare within one type, which paging needs.
        await self._entries.insert_one({"_id": str(uuid.uuid4()), **record.model_dump()})

    async def record_into(self, entry_id: str, record: AccessRecord) -> None:
        # An entry holds the first MAX_CUSTOMERS_PER_ENTRY ids (a document stays far below
        # 16 MB); `customer_count` counts them all.
        fields = record.model_dump(exclude={"customer_ids"})
        await self._entries.update_one(
            {"_id": entry_id},
            {
                "$setOnInsert": fields,
                "$push": {"customer_ids": {"$each": list(record.customer_ids), "$slice": MAX_CUSTOMERS_PER_ENTRY}},
                "$inc": {"customer_count": len(record.customer_ids)},
            },
            upsert=True,
        )

    async def record_many(self, documents: list[dict]) -> None:
        """Stores records shipped from a spool, each once (by its `_id`) however often it comes."""
        try:
            await self._entries.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if any(write_error.get("code") != 11000 for write_error in error.details.get("writeErrors", [])):
                raise

    async def about(self, business_id: str, customer_id: str | None, limit: int) -> list[AccessRecord]:
        query: dict = {"business_id": business_id}
        if customer_id is not None:
            query["customer_ids"] = customer_id
        cursor = self._entries.find(query, projection={"_id": 0}).sort("at", -1).limit(limit)
        return [AccessRecord.model_validate(document) async for document in cursor]

    async def page(self, query: AccessLogQuery) -> AccessLogSlice:
        """Through `business_customer_newest_by_id` with a customer, `business_actor_newest_by_id`
        with an actor, else `business_newest_by_id`.

        The server reads a whole index range before it sorts and limits, so a page never asks
        for an open range: it reads time windows going back from where the previous page
        stopped, each as much wider than the last as the density it found calls for (`GROWTH`
        times when it found nothing), starting from the width the previous page ended with.
        A page thus examines about what it needs while the log's density is steady; a long
        silence followed by a burst is its weak case (the window that crosses the silence
        reads the burst's part in it). At most `MAX_QUERIES` reads, after which it ends
        early with a `resume` point; the entries sharing the previous page's last time are
        one more read, of exactly those."""
        base: dict[str, Any] = {"business_id": query.business_id}
        if query.customer_id is not None:
            base["customer_ids"] = query.customer_id
        if query.actor is not None:
            base["actor"] = query.actor
        # Nothing is older than FLOOR; clamping also keeps a moment like year 1 at +14:00 (which
        # has no UTC form) away from the driver.
        floor = max(query.after, FLOOR) if query.after is not None else FLOOR
        upper = min(moment for moment in (query.before, query.now) if moment is not None)
        found: list[dict] = []
        if query.stopped_at is not None:
            at, last_id = query.stopped_at
            if last_id is not None and at > floor:
                found = await self._find({**base, "at": at, "_id": {"$lt": last_id}}, query.limit)
            upper = min(upper, at)
        window = timedelta(seconds=min(max(query.window_seconds, MIN_WINDOW_SECONDS), MAX_WINDOW_SECONDS))
        for _ in range(MAX_QUERIES):
            if len(found) >= query.limit or upper <= floor:
                break
            # (Compared before subtracting: a wide window may reach past year 1.)
            lower = floor if upper - floor <= window else upper - window
            need = query.limit - len(found)
            bounds = {"$lt": upper, "$gt" if lower == floor else "$gte": lower}
            batch = await self._find({**base, "at": bounds}, need)
            found += batch
            if len(batch) >= need:
                break
            upper = lower
            # What this window held says how wide the next must be for what is still needed.
            still = need - len(batch)
            factor = min(GROWTH, max(1.0, 1.25 * still / len(batch))) if batch else GROWTH
            window = min(window * factor, timedelta(seconds=MAX_WINDOW_SECONDS))
        entries = [(str(document.pop("_id")), AccessRecord.model_validate(document)) for document in found]
        if len(found) >= query.limit:
            last_id, last = entries[-1]
            resume: tuple[datetime, str | None] | None = (last.at, last_id)
        else:
            resume = (upper, None) if upper > floor else None
        return AccessLogSlice(entries=entries, resume=resume, window_seconds=window.total_seconds())

    async def _find(self, query: dict[str, Any], limit: int) -> list[dict]:
        cursor = self._entries.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return await cursor.to_list()
