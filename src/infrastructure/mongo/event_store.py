"""The event store on MongoDB: one document per event; a command's commit is one transaction."""

import asyncio
import random
import uuid

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from application.commits import Commit, ContactKey
from application.errors import ContactAlreadyTaken, IdempotencyKeyTaken, MessageAlreadyProcessed, VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.ports import Clock, EventStore
from infrastructure.event_codec import event_payload, from_document
from infrastructure.mongo.documents import (
    ContactKeyHolder,
    IdempotencyOutcome,
    PositionCounter,
    ProcessedMessage,
    StoredEvent,
)

POSITION_COUNTER_ID = "event_position"
MAX_TRANSIENT_RETRIES = 20


def contact_key_id(business_id: str, kind: str, value: str) -> str:
    return f"{business_id}|{kind}|{value}"


class MongoEventStore(EventStore):
    def __init__(self, database: AsyncDatabase, clock: Clock):
        self._client = database.client
        self._events = database[StoredEvent.Settings.name]
        self._counters = database[PositionCounter.Settings.name]
        self._contact_keys = database[ContactKeyHolder.Settings.name]
        self._outcomes = database[IdempotencyOutcome.Settings.name]
        self._processed = database[ProcessedMessage.Settings.name]
        self._clock = clock
        # Every append bumps one counter document; appends from one process take turns so
        # that they do not abort each other with write conflicts. Other processes still
        # can, which the retry below absorbs.
        self._append_lock = asyncio.Lock()

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        if not any(stream.events for stream in commit.streams):
            raise ValueError("nothing to append")
        async with self._append_lock:
            for attempt in range(MAX_TRANSIENT_RETRIES):
                try:
                    async with self._client.start_session() as session:
                        async with await session.start_transaction():
                            return await self._append_in(session, commit, metadata)
                except _ContactClash as clash:
                    # Read outside the aborted transaction: who holds the key now.
                    holder = await self._contact_keys.find_one({"_id": contact_key_id(clash.key.business_id, clash.key.kind, clash.key.value)})
                    raise ContactAlreadyTaken(clash.key.kind, holder["customer_id"] if holder else None) from None
                except OperationFailure as error:
                    if not error.has_error_label("TransientTransactionError") or attempt == MAX_TRANSIENT_RETRIES - 1:
                        raise
                    await asyncio.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    async def _append_in(self, session: AsyncClientSession, commit: Commit, metadata: EventMetadata) -> int:
        count = sum(len(stream.events) for stream in commit.streams)
        counter = await self._counters.find_one_and_update(
            {"_id": POSITION_COUNTER_ID},
            {"$inc": {"value": count}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        last_position = counter["value"]
        position = last_position - count
        recorded_at = self._clock.now()
        documents = []
        for stream in commit.streams:
            for offset, event in enumerate(stream.events):
                position += 1
                documents.append(
                    {
                        "_id": str(uuid.uuid4()),
                        "stream_id": stream.stream_id,
                        "version": stream.expected_version + offset + 1,
                        "position": position,
                        "event_type": type(event).__name__,
                        "schema_version": event.schema_version,
                        "payload": event_payload(event),
                        "metadata": metadata.model_dump(),
                        "recorded_at": recorded_at,
                    }
                )
        try:
            await self._events.insert_many(documents, ordered=True, session=session)
        except (DuplicateKeyError, BulkWriteError) as error:
            _raise_unless_duplicate(error)
            raise VersionConflict(commit.streams[0].stream_id, commit.streams[0].expected_version) from None
        for key in commit.releases:
            await self._contact_keys.delete_one(
                {"_id": contact_key_id(key.business_id, key.kind, key.value), "customer_id": key.customer_id}, session=session
            )
        for key in commit.claims:
            try:
                await self._contact_keys.insert_one(
                    {"_id": contact_key_id(key.business_id, key.kind, key.value), "business_id": key.business_id, "kind": key.kind,
                     "customer_id": key.customer_id},
                    session=session,
                )
            except DuplicateKeyError:
                raise _ContactClash(key) from None
        if commit.idempotency is not None:
            try:
                await self._outcomes.insert_one(
                    {"_id": commit.idempotency.key, "request_hash": commit.idempotency.request_hash,
                     "outcome": commit.idempotency.outcome, "position": last_position, "created_at": recorded_at},
                    session=session,
                )
            except DuplicateKeyError:
                raise IdempotencyKeyTaken() from None
        if commit.processed_message_id is not None:
            try:
                await self._processed.insert_one(
                    {"_id": commit.processed_message_id, "position": last_position, "processed_at": recorded_at},
                    session=session,
                )
            except DuplicateKeyError:
                raise MessageAlreadyProcessed(commit.processed_message_id) from None
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


class _ContactClash(Exception):
    def __init__(self, key: ContactKey):
        self.key = key


def _raise_unless_duplicate(error: DuplicateKeyError | BulkWriteError) -> None:
    if isinstance(error, DuplicateKeyError):
        return
    if not any(write_error.get("code") == 11000 for write_error in error.details.get("writeErrors", [])):
        raise error
