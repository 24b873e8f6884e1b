"""The event store on MongoDB: one document per event; a command's commit is one transaction."""

import asyncio
import random
import uuid

import structlog
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from application.commits import Commit, ContactKey
from application.errors import ContactAlreadyTaken, IdempotencyKeyTaken, MessageAlreadyProcessed, VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.ports import Clock, EventStore
from infrastructure.crypto.contact_key_ids import ContactKeyIds
from infrastructure.crypto.customer_keys import CustomerKeyring
from infrastructure.event_codec import from_document, stored_payload
from infrastructure.mongo.documents import (
    ContactKeyHolder,
    CustomerSnapshot,
    IdempotencyOutcome,
    PositionCounter,
    ProcessedMessage,
    StoredEvent,
)

log = structlog.get_logger(__name__)
POSITION_COUNTER_ID = "event_position"
MAX_TRANSIENT_RETRIES = 20


class MongoEventStore(EventStore):
    def __init__(self, database: AsyncDatabase, clock: Clock, keyring: CustomerKeyring, contact_key_ids: ContactKeyIds):
        self._client = database.client
        self._events = database[StoredEvent.Settings.name]
        self._counters = database[PositionCounter.Settings.name]
        self._contact_keys = database[ContactKeyHolder.Settings.name]
        self._outcomes = database[IdempotencyOutcome.Settings.name]
        self._snapshots = database[CustomerSnapshot.Settings.name]
        self._processed = database[ProcessedMessage.Settings.name]
        self._clock = clock
        self._keyring = keyring
        self._contact_key_ids = contact_key_ids
        # Every append bumps one counter document; appends from one process take turns so
        # that they do not abort each other with write conflicts. Other processes still
        # can, which the retry below absorbs.
        self._append_lock = asyncio.Lock()

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        if not any(stream.events for stream in commit.streams):
            raise ValueError("nothing to append")
        # Keys are fetched (or created) before the transaction, which stays short.
        # Only streams with personal data get a key (a customer, not an order link).
        keys = {
            stream.stream_id: await self._keyring.key_for_writing(stream.stream_id)
            for stream in commit.streams
            if any(event.personal_data for event in stream.events)
        }
        async with self._append_lock:
            for attempt in range(MAX_TRANSIENT_RETRIES):
                try:
                    async with self._client.start_session() as session:
                        async with await session.start_transaction():
                            position = await self._append_in(session, commit, metadata, keys)
                    log.info("events appended", correlation_id=metadata.correlation_id, position=position,
                             streams=[stream.stream_id for stream in commit.streams])
                    return position
                except _ContactClash as clash:
                    # Read outside the aborted transaction: who holds the key now.
                    holder = await self._contact_keys.find_one({"_id": self._contact_key_ids.id_of(clash.key)})
                    raise ContactAlreadyTaken(clash.key.kind, holder["customer_id"] if holder else None) from None
                except OperationFailure as error:
                    if not error.has_error_label("TransientTransactionError") or attempt == MAX_TRANSIENT_RETRIES - 1:
                        raise
                    await asyncio.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    async def _append_in(
        self, session: AsyncClientSession, commit: Commit, metadata: EventMetadata, keys: dict[str, bytes]
    ) -> int:
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
                        "payload": stored_payload(event, keys.get(stream.stream_id), stream.stream_id),
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
                {"_id": self._contact_key_ids.id_of(key), "customer_id": key.customer_id}, session=session
            )
        for key in commit.claims:
            try:
                await self._contact_keys.insert_one(
                    {"_id": self._contact_key_ids.id_of(key), "business_id": key.business_id, "kind": key.kind,
                     "customer_id": key.customer_id},
                    session=session,
                )
            except DuplicateKeyError:
                raise _ContactClash(key) from None
        if commit.idempotency is not None:
            try:
                await self._outcomes.insert_one(
                    {"_id": commit.idempotency.key, "customer_ids": list(commit.idempotency.customer_ids),
                     "request_hash": commit.idempotency.request_hash,
                     "outcome": commit.idempotency.outcome, "position": last_position, "created_at": recorded_at},
                    session=session,
                )
            except DuplicateKeyError:
                raise IdempotencyKeyTaken() from None
        for customer_id in commit.erasures:
            await self._keyring.destroy(customer_id, session)
            await self._snapshots.delete_one({"_id": customer_id}, session=session)
            await self._outcomes.delete_many({"customer_ids": customer_id}, session=session)
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
        return await self._decoded([document async for document in cursor])

    async def stream_version(self, stream_id: str) -> int:
        last = await self._events.find_one(
            {"stream_id": stream_id}, projection={"version": 1}, sort=[("version", -1)]
        )
        return last["version"] if last else 0

    async def read_all(self, after_position: int, limit: int) -> list[RecordedEvent]:
        cursor = self._events.find({"position": {"$gt": after_position}}).sort("position", 1).limit(limit)
        return await self._decoded([document async for document in cursor])

    async def _decoded(self, documents: list[dict]) -> list[RecordedEvent]:
        keys = await self._keyring.keys_for_reading({document["stream_id"] for document in documents})
        return [from_document(document, keys.get(document["stream_id"])) for document in documents]

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
