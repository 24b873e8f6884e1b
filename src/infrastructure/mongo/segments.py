"""Segments in MongoDB: their definitions (`segments`), each customer's membership (kept in
its view by `customer_views`), and their counts (`segment_counts`), all part of the
customer-details read model.

Membership is decided by one rule, `CustomerFilter.matches`, and counted exactly: every
time a customer's membership changes, its view and the count move together, in one
transaction. A new segment is counted in the background (`SegmentCounting`), customer by
customer, in transactions too; a view that changes meanwhile makes one of the two
transactions start again, so nobody is counted twice or missed.
"""

import asyncio
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from application.customer_filters import CustomerFilter
from application.segments.ports import SegmentReadModel, SegmentView, SegmentWriter
from application.segments.segment_filter import filter_from_json
from domain.customer.state import CustomerState
from infrastructure.mongo.documents import SegmentCount, SegmentDefinition
from infrastructure.mongo.read_model_generations import CollectionName, collection_of

log = structlog.get_logger(__name__)

SHARDS = 8
# How long a process trusts the segment definitions it read: a new segment's background
# count starts only after every process has seen it (`SegmentCounting.SETTLE_SECONDS`).
DEFINITIONS_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class LiveSegment:
    id: str
    filter: CustomerFilter


def membership(segments: Iterable[LiveSegment], state: CustomerState) -> set[str]:
    """The segments the customer belongs to now."""
    return {segment.id for segment in segments if segment.filter.matches(state)}


def any_shard() -> int:
    """The count shard a transaction writes: any one, picked again on each attempt. A count
    is the sum of its shards, so which shard takes a change does not matter; picking at
    random keeps concurrent writers (partitions, replicas) off each other's documents."""
    return random.randrange(SHARDS)


def count_updates(deltas: Mapping[tuple[str, str], int], shard: int) -> list[UpdateOne]:
    """`$inc` of one count shard per segment, from (business, segment) -> change."""
    return [
        UpdateOne(
            {"_id": f"{segment_id}|{shard}"},
            {"$inc": {"members": delta}, "$setOnInsert": {"segment_id": segment_id, "business_id": business_id}},
            upsert=True,
        )
        for (business_id, segment_id), delta in sorted(deltas.items())
        if delta
    ]


class MongoSegments(SegmentWriter, SegmentReadModel):
    def __init__(
        self,
        database: AsyncDatabase,
        segments: str | CollectionName = SegmentDefinition.Settings.name,
        counts: str | CollectionName = SegmentCount.Settings.name,
    ):
        self._segments = collection_of(database, segments)
        self._counts = collection_of(database, counts)
        self._cache: dict[tuple[str, str], tuple[float, list[LiveSegment]]] = {}
        self._reading_ahead: asyncio.Task[None] | None = None

    # the projection's writes

    async def define(self, segment: SegmentView, version: int) -> None:
        document = {
            "business_id": segment.business_id,
            "name": segment.name,
            "filter": segment.filter,
            "created_at": segment.created_at,
            # When the projection learnt of it: its background count waits for every
            # process to have seen it since.
            "stored_at": datetime.now(UTC),
            "version": version,
        }
        try:
            await (await self._segments()).update_one(
                {"_id": segment.id, "version": {"$lt": version}},
                {"$set": document, "$setOnInsert": {"deleted": False, "counted": False, "counted_up_to": 0}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # a later version of it is there already (a redelivery)

    async def delete(self, business_id: str, segment_id: str, version: int) -> None:
        await (await self._segments()).update_one(
            {"_id": segment_id, "version": {"$lt": version}}, {"$set": {"deleted": True, "version": version}}
        )
        await (await self._counts()).delete_many({"segment_id": segment_id})

    # what the view writer evaluates customers against

    async def live(self, business_ids: Iterable[str], fresh: bool = False) -> dict[str, list[LiveSegment]]:
        """The segments of each business that are not deleted (cached a moment, unless `fresh`).

        A cached list past half its age is used as it is and read again in the background
        (as `RefreshAhead` does), so a projector's batch rarely waits for this read; one
        past `DEFINITIONS_CACHE_SECONDS` is never used."""
        collection = await self._segments()
        found: dict[str, list[LiveSegment]] = {}
        missing, ahead = [], []
        now = time.monotonic()
        for business_id in set(business_ids):
            cached = self._cache.get((collection.name, business_id))
            age = now - cached[0] if cached is not None else float("inf")
            if fresh or cached is None or age >= DEFINITIONS_CACHE_SECONDS:
                missing.append(business_id)
                continue
            found[business_id] = cached[1]
            if age >= DEFINITIONS_CACHE_SECONDS / 2:
                ahead.append(business_id)
        if missing:
            found.update(await self._read_live(collection, missing))
        if ahead and (self._reading_ahead is None or self._reading_ahead.done()):
            self._reading_ahead = asyncio.create_task(self._read_ahead(collection, ahead))
        return found

    async def _read_live(self, collection: AsyncCollection, business_ids: list[str]) -> dict[str, list[LiveSegment]]:
        started = time.monotonic()
        read: dict[str, list[LiveSegment]] = {business_id: [] for business_id in business_ids}
        async for document in collection.find({"business_id": {"$in": business_ids}, "deleted": False}):
            read[document["business_id"]].append(LiveSegment(document["_id"], filter_from_json(document["filter"])))
        for business_id, segments in read.items():
            cached = self._cache.get((collection.name, business_id))
            if cached is None or cached[0] < started:  # not over a newer read
                self._cache[(collection.name, business_id)] = (started, segments)
        return read

    async def _read_ahead(self, collection: AsyncCollection, business_ids: list[str]) -> None:
        try:
            await self._read_live(collection, business_ids)
        except Exception as error:  # a batch past the age reads them itself, and fails loudly
            log.warning("could not read segment definitions ahead", error=str(error))

    # the read model

    async def list(self, business_id: str, limit: int) -> list[SegmentView]:
        cursor = (await self._segments()).find({"business_id": business_id, "deleted": False}, limit=limit)
        views = [_view(document) async for document in cursor]
        return sorted(views, key=lambda segment: segment.name.casefold())

    async def get(self, business_id: str, segment_id: str) -> SegmentView | None:
        document = await (await self._segments()).find_one({"_id": segment_id, "business_id": business_id})
        return _view(document) if document and not document.get("deleted") else None

    async def count(self, business_id: str, segment_id: str) -> int:
        cursor = (await self._counts()).find({"segment_id": segment_id}, {"members": 1, "business_id": 1})
        return sum([document["members"] async for document in cursor if document["business_id"] == business_id])


def _view(document: dict) -> SegmentView:
    return SegmentView(
        id=document["_id"],
        business_id=document["business_id"],
        name=document["name"],
        filter=document["filter"],
        created_at=document["created_at"],
        counted=document.get("counted", False),
    )
