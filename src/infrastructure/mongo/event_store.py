"""The event store on MongoDB: one document per event, appended in one transaction."""

import asyncio
import random
import uuid
from collections.abc import Sequence

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from application.errors import VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.ports import Clock, EventStore
from domain.customer.events import CustomerEvent
from infrastructure.event_codec import event_payload, from_document
from infrastructure.mongo.documents import PositionCounter, StoredEvent

POSITION_COUNTER_ID = "event_position"
MAX_TRANSIENT_RETRIES = 20


class MongoEventStore(EventStore):
    def __init__(self, database: AsyncDatabase, clock: Clock):
        self._client = database.client
        self._events = database[StoredEvent.Settings.name]
        self._counters = database[PositionCounter.Settings.name]
        self._clock = clock
        # Every append bumps one counter document; appends from one process take turns so
        # that they do not abort each other with write conflicts. Other processes still
        # can, which the retry below absorbs.
        self._append_lock = asyncio.Lock()

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[CustomerEvent],
        metadata: EventMetadata,
    ) -> int:
        if not events:
            raise ValueError("nothing to append")
        async with self._append_lock:
            for attempt in range(MAX_TRANSIENT_RETRIES):
                try:
                    async with self._client.start_session() as session:
                        async with await session.start_transaction():
                            return await self._append_in(session, stream_id, expected_version, events, metadata)
                except (DuplicateKeyError, BulkWriteError) as error:
                    if not _is_duplicate_key(error):
                        raise
                    raise VersionConflict(stream_id, expected_version) from None
                except OperationFailure as error:
                    if not error.has_error_label("TransientTransactionError") or attempt == MAX_TRANSIENT_RETRIES - 1:
                        raise
                    await asyncio.sleep(random.uniform(0, 0.005 * 2**min(attempt, 6)))
        raise AssertionError("unreachable")

    async def _append_in(
        self,
        session: AsyncClientSession,
        stream_id: str,
        expected_version: int,
        events: Sequence[CustomerEvent],
        metadata: EventMetadata,
    ) -> int:
        counter = await self._counters.find_one_and_update(
            {"_id": POSITION_COUNTER_ID},
            {"$inc": {"value": len(events)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        last_position = counter["value"]
        first_position = last_position - len(events) + 1
        recorded_at = self._clock.now()
        documents = [
            {
                "_id": str(uuid.uuid4()),
                "stream_id": stream_id,
                "version": expected_version + offset + 1,
                "position": first_position + offset,
                "event_type": type(event).__name__,
                "schema_version": event.schema_version,
                "payload": event_payload(event),
                "metadata": metadata.model_dump(),
                "recorded_at": recorded_at,
            }
            for offset, event in enumerate(events)
        ]
        await self._events.insert_many(documents, ordered=True, session=session)
        return last_position

    async def load_stream(
        self, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        version_range: dict[str, int] = {"$gt": after_version}
        if up_to_version is not None:
            version_range["$lte"] = up_to_version
        cursor = self._events.find({"stream_id": stream_id, "version": version_range}).sort("version", 1)
        return [from_document(document) async for document in cursor]

    async def stream_version(self, stream_id: str) -> int:
        last = await self._events.find_one(
            {"stream_id": stream_id}, projection={"version": 1}, sort=[("version", -1)]
        )
        return last["version"] if last else 0

    async def read_all(self, after_position: int, limit: int) -> list[RecordedEvent]:
        cursor = self._events.find({"position": {"$gt": after_position}}).sort("position", 1).limit(limit)
        return [from_document(document) async for document in cursor]

    async def head_position(self) -> int:
        counter = await self._counters.find_one({"_id": POSITION_COUNTER_ID})
        return counter["value"] if counter else 0


def _is_duplicate_key(error: DuplicateKeyError | BulkWriteError) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    return any(write_error.get("code") == 11000 for write_error in error.details.get("writeErrors", []))
