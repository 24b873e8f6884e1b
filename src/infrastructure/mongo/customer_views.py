"""The customer-details read model in MongoDB: one view per customer in `customer_details`
(its state without its purchase history, facets and sort keys), its search terms in
`customer_search`, its notes, one document each, in `customer_notes`, and its orders and
payments, one document each, in `customer_purchases`."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from application.errors import VersionConflict
from application.ports import CustomerViewStore, CustomerViewWriter, ViewChange
from application.projections.customer_query_fields import SEARCH_SORTS, derive_query_fields, segment_key
from domain.customer.profile import CustomerStatus
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import CustomerState
from infrastructure.mongo.bulk_writes import bulk_write_in_chunks
from infrastructure.mongo.customer_purchases import histories_of, purchase_writes
from infrastructure.mongo.documents import (
    CustomerNote,
    CustomerPurchase,
    CustomerSearchEntry,
    CustomerView,
    ListFences,
    SegmentCount,
)
from infrastructure.mongo.list_fences import forget_customers_in_name_fences
from infrastructure.mongo.read_model_generations import CollectionName, collection_of
from infrastructure.mongo.segments import LiveSegment, MongoSegments, any_shard, count_updates, membership
from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS

# A projector's transaction that cannot commit within this long fails its batch (retried).
DUPLICATE_KEY = 11000
MAX_REMEMBERED_READS = 10_000


def view_document(state: CustomerState, segments: set[str]) -> dict[str, Any]:
    """The stored view of a customer, without its `_id`: its state, its facets (with those
    of the segments it belongs to), its sort keys."""
    fields = derive_query_fields(state)
    return {
        "business_id": state.business_id,
        "version": state.version,
        "state": state.model_dump(mode="python", exclude={"purchases"}),
        "status": state.status.value,
        "facets": [*fields.facets, *(segment_key(segment_id) for segment_id in sorted(segments))],
        "segments": sorted(segments),
        "sort": {field.value: key for field, key in fields.sort_keys.items()},
    }


def search_document(state: CustomerState) -> dict[str, Any]:
    """The stored search entry of a customer, without its `_id` and its `view_version`. It
    is written only when what it holds changes."""
    fields = derive_query_fields(state)
    return {
        "business_id": state.business_id,
        "status": state.status.value,
        "terms": fields.terms,
        "words": fields.search_words,
        "sort": {field.value: fields.sort_keys[field] for field in SEARCH_SORTS},
    }


def note_writes(changes: Iterable[ViewChange]) -> list[UpdateOne | UpdateMany]:
    """The notes the changes added (a note written twice changes nothing), then the
    contents of erased customers' notes blanked: to be written in this order."""
    changes = list(changes)
    added = [
        UpdateOne(
            {"_id": f"{numbered.customer_id}/{numbered.number}"},
            {"$setOnInsert": numbered.model_dump(mode="python")},
            upsert=True,
        )
        for change in changes
        for numbered in change.notes
    ]
    blanked = [
        UpdateMany(
            {"business_id": change.after.business_id, "customer_id": change.after.id},
            {"$set": {"note.content": None}},
        )
        for change in changes
        if change.erased
    ]
    return [*added, *blanked]


def search_changed(change: ViewChange) -> bool:
    return change.before is None or search_document(change.before) != search_document(change.after)


def search_entry(customer_id: str, state: CustomerState) -> dict[str, Any]:
    return {"_id": customer_id, **search_document(state), "view_version": state.version}


class MongoCustomerViewStore(CustomerViewStore):
    def __init__(
        self,
        database: AsyncDatabase,
        collection: str | CollectionName = CustomerView.Settings.name,
        search_collection: str | CollectionName = CustomerSearchEntry.Settings.name,
        segments: MongoSegments | None = None,
        counts_collection: str | CollectionName = SegmentCount.Settings.name,
        notes_collection: str | CollectionName = CustomerNote.Settings.name,
        purchases_collection: str | CollectionName = CustomerPurchase.Settings.name,
    ):
        # The live read generation, or one generation's collections (a rebuild's, a verify's).
        self._client = database.client
        self._collection = collection_of(database, collection)
        self._search = collection_of(database, search_collection)
        self._notes = collection_of(database, notes_collection)
        self._purchases = collection_of(database, purchases_collection)
        self._segments = segments or MongoSegments(database)
        self._counts = collection_of(database, counts_collection)
        self._fences = database[ListFences.Settings.name]
        # customer id -> (its view was there, its segments) as the last `get_many` read it
        self._read: dict[str, tuple[bool, list[str] | None]] = {}

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        document = await (await self._collection()).find_one({"_id": customer_id, "business_id": business_id})
        return CustomerState.model_validate(document["state"]) if document else None

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        """The stored views; what was read of each (there or not, its segments) is kept for
        the `save_many` of the same batch."""
        cursor = (await self._collection()).find({"_id": {"$in": list(customer_ids)}})
        found: dict[str, CustomerState] = {}
        if len(self._read) > MAX_REMEMBERED_READS:
            self._read.clear()  # reads never followed by a save (nothing changed)
        async for document in cursor:
            found[document["_id"]] = CustomerState.model_validate(document["state"])
            self._read[document["_id"]] = (True, document.get("segments"))
        for customer_id in customer_ids:
            self._read.setdefault(customer_id, (False, None))
        return found

    async def purchases_of(self, customers: Mapping[str, str]) -> dict[str, PurchaseHistory]:
        return await histories_of(await self._purchases(), customers) if customers else {}

    async def deleted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        cursor = (
            (await self._collection())
            .find(
                {"status": CustomerStatus.DELETED.value, "state.deleted_at": {"$lt": cutoff}},
                projection={"business_id": 1},
            )
            .sort("state.deleted_at", 1)
            .limit(limit)
        )
        return [(document["business_id"], document["_id"]) async for document in cursor]

    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        """The views (guarded by version), their search entries, and the counts of the
        segments whose membership changed, in one transaction when more than views change.

        The stored version and segments come from the projector's own `get_many` of the
        batch (only its partition writes these views), so the writes are guarded by them
        instead of being read again; a view changed meanwhile makes the batch a conflict."""
        if not changes:
            return
        # The notes first, outside the views' transaction: writing them is idempotent, so a
        # batch that fails after them is applied again, and a view never shows a note count
        # whose notes are not there.
        if notes := note_writes(changes.values()):
            await (await self._notes()).bulk_write(notes, ordered=True)
        # Purchase records likewise: a view never shows metrics whose records are not there.
        if purchases := purchase_writes(changes.values()):
            await (await self._purchases()).bulk_write(purchases, ordered=False)
        segments = await self._segments.live({change.after.business_id for change in changes.values()})
        views, search, counts = await self._collection(), await self._search(), await self._counts()
        read = self._take_read(changes)
        if read is None:  # not read by this process: read and write in one transaction
            await self._save_read_in_transaction(changes, segments, views, search, counts)
        else:
            stored = {
                customer_id: {"version": changes[customer_id].expected_version, "segments": found}
                for customer_id, (exists, found) in read.items()
                if exists
            }
            operations, deltas = _view_writes(changes, stored, segments, guard_segments=True)
            # The search entries first, each guarded by the version it was made from: one
            # made from an older view never lands, so they need no transaction with the
            # views (a batch that fails after them writes the same entries again).
            await _write_guarded_entries(search, changes)

            async def write(session: AsyncClientSession | None) -> None:
                # The count shard is picked again on each attempt (see `any_shard`).
                await _write(views, counts, operations, count_updates(deltas, any_shard()), session)

            try:
                if any(deltas.values()):  # counts move with the views, exactly once: together
                    await self._in_transaction(write)
                else:
                    await write(None)  # views alone, each guarded by itself: no transaction
            except BulkWriteError as error:
                raise VersionConflict("customer_details", -1) from error
        await self._forget_fences_of_erased(changes)

    async def _in_transaction(self, write) -> None:
        with pymongo.timeout(TRANSACTION_SECONDS):
            async with self._client.start_session() as session:
                await session.with_transaction(write)

    def _take_read(self, changes: Mapping[str, ViewChange]) -> dict[str, tuple[bool, list[str] | None]] | None:
        taken = {customer_id: self._read.pop(customer_id, None) for customer_id in changes}
        if any(found is None for found in taken.values()):
            return None
        return taken  # type: ignore[return-value]

    async def _save_read_in_transaction(self, changes, segments, views, search, counts) -> None:
        async def write(session: AsyncClientSession) -> None:
            stored = {
                document["_id"]: document
                async for document in views.find(
                    {"_id": {"$in": list(changes)}}, {"version": 1, "segments": 1}, session=session
                )
            }
            for customer_id, change in changes.items():
                before = stored.get(customer_id)
                if (before["version"] if before else 0) != change.expected_version:
                    raise VersionConflict("customer_details", change.expected_version)
            operations, deltas = _view_writes(changes, stored, segments, guard_segments=False)
            if entries := _search_entries(changes):
                await search.bulk_write(entries, ordered=False, session=session)
            await _write(views, counts, operations, count_updates(deltas, any_shard()), session)

        try:
            with pymongo.timeout(TRANSACTION_SECONDS):
                async with self._client.start_session() as session:
                    await session.with_transaction(write)
        except BulkWriteError as error:
            raise VersionConflict("customer_details", -1) from error

    async def _forget_fences_of_erased(self, changes: Mapping[str, ViewChange]) -> None:
        erased: dict[str, list[str]] = {}
        for customer_id, change in changes.items():
            if change.erased:
                erased.setdefault(change.after.business_id, []).append(customer_id)
        for business_id, customer_ids in erased.items():
            await forget_customers_in_name_fences(self._fences, business_id, customer_ids)


def _view_writes(
    changes: Mapping[str, ViewChange],
    stored: Mapping[str, Mapping[str, Any]],
    segments: Mapping[str, list[LiveSegment]],
    guard_segments: bool,
) -> tuple[list[InsertOne | UpdateOne], Counter[tuple[str, str]]]:
    operations: list[InsertOne | UpdateOne] = []
    deltas: Counter[tuple[str, str]] = Counter()
    for customer_id, change in changes.items():
        before = stored.get(customer_id)
        live = segments.get(change.after.business_id, [])
        counted = set(before.get("segments") or []) if before else set()
        # A segment this process does not know (yet) keeps its members as they are.
        members = membership(live, change.after) | (counted - {segment.id for segment in live})
        _count_changes(deltas, change.after.business_id, customer_id, counted, members, live)
        document = view_document(change.after, members)
        if before is None:
            operations.append(InsertOne({"_id": customer_id, **document}))
            continue
        guard: dict[str, Any] = {"_id": customer_id, "version": change.expected_version}
        if guard_segments:
            found = before.get("segments")
            guard["segments"] = found if found is not None else {"$exists": False}
        operations.append(UpdateOne(guard, {"$set": document}))
    return operations, deltas


def _changed_entries(changes: Mapping[str, ViewChange]) -> list[dict[str, Any]]:
    """The search entries of the changes whose search fields changed."""
    return [
        search_entry(customer_id, change.after) for customer_id, change in changes.items() if search_changed(change)
    ]


def _search_entries(changes: Mapping[str, ViewChange]) -> list[ReplaceOne]:
    return [ReplaceOne({"_id": entry["_id"]}, entry, upsert=True) for entry in _changed_entries(changes)]


async def _write_guarded_entries(search, changes: Mapping[str, ViewChange]) -> None:
    """Each entry replaces only one made from an older view; a newer one stays. A new
    customer's entry is inserted: on SecantusDB an upsert costs about 10% more (3.0 against
    2.75 ms an entry, measured with a scratch script), and the search entry is the largest
    write of a registration."""
    new = [search_entry(customer_id, change.after) for customer_id, change in changes.items() if change.before is None]
    changed = [
        search_entry(customer_id, change.after)
        for customer_id, change in changes.items()
        if change.before is not None and search_changed(change)
    ]
    # One already there (a batch applied again) goes the guarded way.
    await _replace_older(search, [*changed, *await _insert_absent(search, new)])


async def _insert_absent(search, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inserts the entries; returns those already there."""
    if not entries:
        return []
    try:
        await search.bulk_write([InsertOne(entry) for entry in entries], ordered=False)
    except BulkWriteError as error:
        return [entries[index] for index in _duplicate_keys(error)]
    return []


async def _replace_older(search, entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    guarded = [
        ReplaceOne({"_id": entry["_id"], "view_version": {"$lt": entry["view_version"]}}, entry, upsert=True)
        for entry in entries
    ]
    try:
        await search.bulk_write(guarded, ordered=False)
    except BulkWriteError as error:
        # A duplicate key is an entry there and not older: made from a newer view (it
        # stays), or written before entries carried their view's version (replaced now).
        # Not one `$or` filter for both: SecantusDB scans the whole collection for that.
        unversioned = [entries[index] for index in _duplicate_keys(error)]
        await search.bulk_write(
            [ReplaceOne({"_id": entry["_id"], "view_version": {"$exists": False}}, entry) for entry in unversioned],
            ordered=False,
        )


def _duplicate_keys(error: BulkWriteError) -> list[int]:
    """The operations of an unordered bulk write that failed on a duplicate key; any other
    failure is raised."""
    failures = error.details.get("writeErrors", [])
    if error.details.get("writeConcernErrors") or any(failure.get("code") != DUPLICATE_KEY for failure in failures):
        raise error
    return [failure["index"] for failure in failures]


async def _write(views, counts, operations, updates, session: AsyncClientSession | None) -> None:
    result = await views.bulk_write(operations, ordered=False, session=session)
    if result.matched_count != sum(isinstance(operation, UpdateOne) for operation in operations):
        raise VersionConflict("customer_details", -1)
    if updates:
        await counts.bulk_write(updates, ordered=False, session=session)


def _count_changes(
    deltas: Counter,
    business_id: str,
    customer_id: str,
    counted: set[str],
    members: set[str],
    live: list[LiveSegment],
) -> None:
    """What a customer's new membership changes in the counts (a deleted segment has none)."""
    live_ids = {segment.id for segment in live}
    for segment_id in members - counted:
        deltas[(business_id, segment_id)] += 1
    for segment_id in (counted - members) & live_ids:
        deltas[(business_id, segment_id)] -= 1


class BufferedCustomerViews(CustomerViewWriter):
    """The customer views of a rebuild, folded in memory and written in bulk by `flush`.

    During the replay only this writer writes the build, so a customer it has not written
    is not there, unless the build was resumed (then it asks the database). Membership of
    segments is decided at the flush, against the segments replayed so far; a segment
    defined after customers were flushed is left uncounted, for the background count."""

    def __init__(
        self,
        database: AsyncDatabase,
        collection: str,
        search_collection: str,
        segments: MongoSegments,
        counts_collection: str,
        notes_collection: str,
        purchases_collection: str,
        resumed: bool,
        max_held: int,
    ):
        self._views = database[collection]
        self._search = database[search_collection]
        self._notes = database[notes_collection]
        self._purchases = database[purchases_collection]
        self._segments = segments
        self._counts = database[counts_collection]
        self._resumed = resumed
        self._max_held = max_held
        # customer id -> (the view in the database, None when absent; its segments there; the state now)
        self._held: dict[str, tuple[CustomerState | None, set[str], CustomerState]] = {}
        self._written: set[str] = set()
        # Views a resumed build already held: the interrupted flush may have written them and
        # not their search entries (written after the views), so those are written again.
        self._entries_unsure: set[str] = set()
        self._note_writes: list[UpdateOne | UpdateMany] = []

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        found = {customer_id: self._held[customer_id][2] for customer_id in customer_ids if customer_id in self._held}
        unknown = [
            customer_id
            for customer_id in customer_ids
            if customer_id not in found and (self._resumed or customer_id in self._written)
        ]
        if unknown:
            documents = [document async for document in self._views.find({"_id": {"$in": unknown}})]
            # Held states are whole (their histories too): the fold and the flush's diff need them.
            histories = await histories_of(
                self._purchases, {document["_id"]: document["business_id"] for document in documents}
            )
            for document in documents:
                state = CustomerState.model_validate(document["state"])
                state = state.model_copy(update={"purchases": histories[document["_id"]]})
                self._held[document["_id"]] = (state, set(document.get("segments", [])), state)
                found[document["_id"]] = state
                if document["_id"] not in self._written:
                    self._entries_unsure.add(document["_id"])
        return found

    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        self._note_writes.extend(note_writes(changes.values()))
        for customer_id, change in changes.items():
            stored, counted, _ = self._held.get(customer_id, (None, set(), change.after))
            self._held[customer_id] = (stored, counted, change.after)
        if len(self._held) >= self._max_held:
            await self.flush()

    async def flush(self) -> None:
        segments = await self._segments.live({state.business_id for _, _, state in self._held.values()}, fresh=True)
        views: list[InsertOne | ReplaceOne] = []
        entries: list[InsertOne | ReplaceOne] = []
        purchases: list[ReplaceOne | DeleteOne] = []
        deltas: Counter[tuple[str, str]] = Counter()
        for customer_id, (stored, counted, state) in self._held.items():
            live = segments.get(state.business_id, [])
            members = membership(live, state) | (counted - {segment.id for segment in live})
            if stored is None or state.version != stored.version or members != counted:
                _count_changes(deltas, state.business_id, customer_id, counted, members, live)
                document = {"_id": customer_id, **view_document(state, members)}
                if stored is None:
                    views.append(InsertOne(document))
                else:
                    views.append(ReplaceOne({"_id": customer_id, "version": stored.version}, document))
                purchases += purchase_writes([ViewChange(stored, state)])
            if stored is None:
                # Written after the views, so a customer whose view is not in the build has no
                # entry there either: an insert, a quarter cheaper than an upsert on SecantusDB.
                entries.append(InsertOne(search_entry(customer_id, state)))
            elif customer_id in self._entries_unsure or search_changed(ViewChange(stored, state)):
                entries.append(ReplaceOne({"_id": customer_id}, search_entry(customer_id, state), upsert=True))
        await bulk_write_in_chunks(self._notes, self._note_writes, ordered=True)
        self._note_writes = []
        await bulk_write_in_chunks(self._purchases, purchases, ordered=False)
        await bulk_write_in_chunks(self._views, views, ordered=False)
        await bulk_write_in_chunks(self._search, entries, ordered=False)
        await bulk_write_in_chunks(self._counts, count_updates(deltas, any_shard()), ordered=False)
        self._written.update(self._held)
        self._entries_unsure.clear()
        self._held.clear()
