"""The event store on MongoDB: one document per event; commits of a business go in groups,
one transaction per group (see `group_commit`).

A business's log head is one document (`business_logs`), bumped inside the transaction:
positions are gap-free and follow commit order within the business, and businesses never
touch each other's documents, so the store shards by business (see docs/scaling.md).

A transaction of a group, in this order (each step one round trip, whatever the group's
size): the log head; the events; the contact keys released, then claimed; the idempotency
outcomes; the processed inbound messages; the snapshots (each customer's state after its
events, so that loading a customer is one read); the purchase records the events changed
(kept outside the snapshots, so a customer may hold any number); the new customers' data
keys; erasures.
"""

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import pymongo
import structlog
from pymongo import DeleteOne, ReplaceOne, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from application.commits import Commit, ContactKey
from application.errors import ContactAlreadyTaken, IdempotencyKeyTaken, MessageAlreadyProcessed, VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.partitions import log_partition_of
from application.ports import AppendAnnouncer, Clock, EventStore, NoAppendAnnouncer
from infrastructure.crypto.contact_key_ids import ContactKeyIds
from infrastructure.crypto.customer_keys import CustomerKeyring
from infrastructure.event_codec import from_document, stored_payload
from infrastructure.mongo.customer_purchases import record_writes
from infrastructure.mongo.documents import (
    BusinessLog,
    ContactKeyHolder,
    CustomerDataKey,
    CustomerSnapshot,
    IdempotencyOutcome,
    ProcessedMessage,
    PurchaseRecord,
    StoredEvent,
)
from infrastructure.mongo.group_commit import CommitFailed, GroupCommit, PendingCommit
from infrastructure.mongo.snapshot_shape import snapshot_document
from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS

log = structlog.get_logger(__name__)

# A group carries at most this many commits; more wait for the next transaction.
MAX_GROUP = 64
DUPLICATE_KEY = 11000
# A log read answers in one reply up to this many events (about 1 KB each).
MAX_LOG_REPLY = 10_000


class MongoEventStore(EventStore):
    def __init__(
        self,
        database: AsyncDatabase,
        clock: Clock,
        keyring: CustomerKeyring,
        contact_key_ids: ContactKeyIds,
        log_partitions: int,
        announcer: AppendAnnouncer | None = None,
    ):
        self._client = database.client
        self._events = database[StoredEvent.Settings.name]
        self._logs = database[BusinessLog.Settings.name]
        self._contact_keys = database[ContactKeyHolder.Settings.name]
        self._outcomes = database[IdempotencyOutcome.Settings.name]
        self._snapshots = database[CustomerSnapshot.Settings.name]
        self._purchase_records = database[PurchaseRecord.Settings.name]
        self._processed = database[ProcessedMessage.Settings.name]
        self._data_keys = database[CustomerDataKey.Settings.name]
        self._clock = clock
        self._keyring = keyring
        self._contact_key_ids = contact_key_ids
        self._log_partitions = log_partitions
        # The relay is woken once per group commit of a business.
        announcer = announcer or NoAppendAnnouncer()
        self._groups = GroupCommit(self._write_group, self._exclusive_claims, MAX_GROUP, announcer.appended)

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        if not any(stream.events for stream in commit.streams):
            raise ValueError("nothing to append")
        position = await self._groups.submit(commit, metadata)
        log.info(
            "events appended",
            correlation_id=metadata.correlation_id,
            business_id=commit.business_id,
            position=position,
            streams=[stream.stream_id for stream in commit.streams],
        )
        return position

    def _exclusive_claims(self, commit: Commit) -> set[str]:
        """What two commits of one transaction must not both write: a stream, a contact key,
        an idempotency key, an inbound message."""
        claims = {f"stream:{stream.stream_id}" for stream in commit.streams}
        claims |= {f"key:{self._contact_key_ids.id_of(key)}" for key in (*commit.claims, *commit.releases)}
        if commit.idempotency is not None:
            claims.add(f"idempotency:{commit.idempotency.key}")
        if commit.processed_message_id is not None:
            claims.add(f"message:{commit.processed_message_id}")
        return claims

    async def _write_group(self, group: Sequence[PendingCommit]) -> list[int]:
        business_id = group[0].commit.business_id
        keys, new_keys = await self._data_keys_for(group)
        recorded_at = self._clock.now()
        positions: list[int] = []

        async def write(session: AsyncClientSession) -> None:
            positions.clear()
            positions.extend(await self._write_in(session, business_id, group, keys, new_keys, recorded_at))

        try:
            with pymongo.timeout(TRANSACTION_SECONDS):
                async with self._client.start_session() as session:
                    await session.with_transaction(write)
        except _ContactClash as clash:
            # Read outside the aborted transaction: who holds the key now.
            holder = await self._contact_keys.find_one({"_id": clash.key_id})
            taken = ContactAlreadyTaken(clash.kind, holder["customer_id"] if holder else None)
            raise CommitFailed(clash.pending, taken) from None
        return positions

    async def _data_keys_for(self, group: Sequence[PendingCommit]) -> tuple[dict[str, bytes], list[dict]]:
        """Each personal-data stream's key: new streams get a new key, written with their
        events; the others' come from the keyring (cached, or one read for the group)."""
        personal = {
            stream.stream_id: stream.expected_version
            for pending in group
            for stream in pending.commit.streams
            if any(event.personal_data for event in stream.events)
        }
        new_keys = [self._keyring.new_key(stream_id) for stream_id, version in personal.items() if version == 0]
        keys = {document["_id"]: key for key, document in new_keys}
        existing = [stream_id for stream_id, version in personal.items() if version > 0]
        keys.update(await self._keyring.keys_for_writing(existing))
        return keys, [document for _, document in new_keys]

    async def _write_in(
        self,
        session: AsyncClientSession,
        business_id: str,
        group: Sequence[PendingCommit],
        keys: dict[str, bytes],
        new_keys: list[dict],
        recorded_at: datetime,
    ) -> list[int]:
        count = sum(len(stream.events) for pending in group for stream in pending.commit.streams)
        head = await self._logs.find_one_and_update(
            {"_id": business_id},
            {
                "$inc": {"head": count},
                "$set": {"updated_at": recorded_at},
                "$setOnInsert": {"log_partition": log_partition_of(business_id, self._log_partitions)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        position = head["head"] - count
        events: list[dict[str, Any]] = []
        event_owners: list[PendingCommit] = []
        last_positions: list[int] = []
        for pending in group:
            for stream in pending.commit.streams:
                for offset, event in enumerate(stream.events):
                    position += 1
                    events.append(
                        {
                            "_id": str(uuid.uuid4()),
                            "business_id": business_id,
                            "stream_id": stream.stream_id,
                            "version": stream.expected_version + offset + 1,
                            "position": position,
                            "event_type": type(event).__name__,
                            "schema_version": event.schema_version,
                            "payload": stored_payload(event, keys.get(stream.stream_id), stream.stream_id),
                            "metadata": pending.metadata.model_dump(),
                            "recorded_at": recorded_at,
                        }
                    )
                    event_owners.append(pending)
            last_positions.append(position)
        await _insert_owned(
            self._events, events, event_owners, session, lambda p, d: VersionConflict(d["stream_id"], d["version"] - 1)
        )
        await self._write_contact_keys(session, group)
        with_outcome = [(p, last) for p, last in zip(group, last_positions, strict=True) if p.commit.idempotency]
        await _insert_owned(
            self._outcomes,
            [
                {
                    "_id": pending.commit.idempotency.key,
                    "customer_ids": list(pending.commit.idempotency.customer_ids),
                    "request_hash": pending.commit.idempotency.request_hash,
                    "outcome": pending.commit.idempotency.outcome,
                    "position": last,
                    "created_at": recorded_at,
                }
                for pending, last in with_outcome
                if pending.commit.idempotency is not None
            ],
            [pending for pending, _ in with_outcome],
            session,
            lambda p, d: IdempotencyKeyTaken(),
        )
        from_messages = [
            (p, last) for p, last in zip(group, last_positions, strict=True) if p.commit.processed_message_id
        ]
        await _insert_owned(
            self._processed,
            [
                {"_id": pending.commit.processed_message_id, "position": last, "processed_at": recorded_at}
                for pending, last in from_messages
            ],
            [pending for pending, _ in from_messages],
            session,
            lambda p, d: MessageAlreadyProcessed(d["_id"]),
        )
        snapshots = [
            ReplaceOne({"_id": stream.stream_id}, snapshot_document(business_id, stream.snapshot), upsert=True)
            for pending in group
            for stream in pending.commit.streams
            if stream.snapshot is not None
        ]
        if snapshots:
            await self._snapshots.bulk_write(snapshots, ordered=False, session=session)
        purchase_records = [
            write
            for pending in group
            for stream in pending.commit.streams
            if stream.purchase_records is not None
            for write in record_writes(business_id, stream.stream_id, stream.purchase_records)
        ]
        if purchase_records:
            await self._purchase_records.bulk_write(purchase_records, ordered=False, session=session)
        if new_keys:
            await self._data_keys.insert_many(new_keys, ordered=False, session=session)
        erased = [customer_id for pending in group for customer_id in pending.commit.erasures]
        if erased:
            await self._data_keys.delete_many({"_id": {"$in": erased}}, session=session)
            await self._outcomes.delete_many({"customer_ids": {"$in": erased}}, session=session)
            self._keyring.forget(erased)
        return last_positions

    async def _write_contact_keys(self, session: AsyncClientSession, group: Sequence[PendingCommit]) -> None:
        # Released before claimed, so a key can move from one customer to another (a merge).
        releases = [
            DeleteOne({"_id": self._contact_key_ids.id_of(key), "customer_id": key.customer_id})
            for pending in group
            for key in pending.commit.releases
        ]
        if releases:
            await self._contact_keys.bulk_write(releases, ordered=False, session=session)
        owners = [pending for pending in group for _ in pending.commit.claims]
        claims = [self._claim_document(key) for pending in group for key in pending.commit.claims]
        if not claims:
            return
        try:
            await self._contact_keys.insert_many(claims, ordered=True, session=session)
        except BulkWriteError as error:
            index = _duplicate_index(error)
            if index is None:
                raise
            raise _ContactClash(owners[index], claims[index]["_id"], claims[index]["kind"]) from None

    def _claim_document(self, key: ContactKey) -> dict[str, str]:
        return {
            "_id": self._contact_key_ids.id_of(key),
            "business_id": key.business_id,
            "kind": key.kind,
            "customer_id": key.customer_id,
        }

    async def load_stream(
        self, business_id: str, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        version_range: dict[str, int] = {"$gt": after_version}
        if up_to_version is not None:
            version_range["$lte"] = up_to_version
        cursor = self._events.find(
            {"business_id": business_id, "stream_id": stream_id, "version": version_range}, sort=[("version", 1)]
        )
        return await self._decoded([document async for document in cursor])

    async def load_streams(self, business_id: str, stream_ids: Collection[str]) -> dict[str, list[RecordedEvent]]:
        # `$in` without a version range: SecantusDB answers it from the stream index (with
        # a range beside it, it reads the whole collection); sorted here, not by the server.
        cursor = self._events.find({"business_id": business_id, "stream_id": {"$in": list(stream_ids)}})
        documents = sorted([document async for document in cursor], key=lambda d: (d["stream_id"], d["version"]))
        loaded: dict[str, list[RecordedEvent]] = {}
        for event in await self._decoded(documents):
            loaded.setdefault(event.stream_id, []).append(event)
        return loaded

    async def stream_version(self, business_id: str, stream_id: str) -> int:
        # The snapshot is written with every append of a customer: one document, not a range.
        snapshot = await self._snapshots.find_one({"_id": stream_id, "business_id": business_id}, {"version": 1})
        floor = snapshot["version"] if snapshot else 0
        later = await self._events.count_documents(
            {"business_id": business_id, "stream_id": stream_id, "version": {"$gt": floor}}
        )
        return floor + later

    async def read_log(self, business_id: str, after_position: int, up_to_position: int) -> list[RecordedEvent]:
        cursor = self._events.find(
            {"business_id": business_id, "position": {"$gt": after_position, "$lte": up_to_position}},
            sort=[("position", 1)],
            # The whole window in one reply (the first is 101 documents by default): a read
            # ahead then needs no turn of the event loop to ask for the rest.
            batch_size=max(1, min(up_to_position - after_position, MAX_LOG_REPLY)),
        )
        return await self._decoded([document async for document in cursor])

    async def _decoded(self, documents: list[dict]) -> list[RecordedEvent]:
        keys = await self._keyring.keys_for_reading({document["stream_id"] for document in documents})
        return [from_document(document, keys.get(document["stream_id"])) for document in documents]

    async def head_position(self, business_id: str) -> int:
        document = await self._logs.find_one({"_id": business_id}, {"head": 1})
        return document["head"] if document else 0

    async def heads(self, after_business_id: str | None, limit: int) -> list[tuple[str, int]]:
        query = {"_id": {"$gt": after_business_id}} if after_business_id is not None else {}
        cursor = self._logs.find(query, {"head": 1}, sort=[("_id", 1)], limit=limit)
        return [(document["_id"], document["head"]) async for document in cursor]

    async def heads_of(self, business_ids: Collection[str]) -> dict[str, int]:
        cursor = self._logs.find({"_id": {"$in": list(business_ids)}}, {"head": 1})
        return {document["_id"]: document["head"] async for document in cursor}


class _ContactClash(Exception):
    def __init__(self, pending: PendingCommit, key_id: str, kind: str):
        self.pending = pending
        self.key_id = key_id
        self.kind = kind


async def _insert_owned(
    collection,
    documents: list[dict[str, Any]],
    owners: list[PendingCommit],
    session: AsyncClientSession,
    failure: Callable[[PendingCommit, dict[str, Any]], Exception],
) -> None:
    """Inserts in order; a duplicate fails the commit that owns the document, alone."""
    if not documents:
        return
    try:
        await collection.insert_many(documents, ordered=True, session=session)
    except BulkWriteError as error:
        index = _duplicate_index(error)
        if index is None:
            raise
        raise CommitFailed(owners[index], failure(owners[index], documents[index])) from None


def _duplicate_index(error: BulkWriteError) -> int | None:
    """The index of the document an ordered insert stopped at, if it was a duplicate key."""
    write_errors = error.details.get("writeErrors", [])
    if write_errors and write_errors[0].get("code") == DUPLICATE_KEY:
        return write_errors[0]["index"]
    return None
