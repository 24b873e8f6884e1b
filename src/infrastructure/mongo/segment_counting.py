"""Counts a new segment's members in the background, once, after its definition.

The projection counts every customer it writes from the moment it knows the segment; this
counts those it will not write again. It waits until every process has seen the segment
(`SETTLE_SECONDS`), then walks the business's log up to its head as it was then, in
bounded windows, takes the customers registered in each window, and checks each one, in a
transaction: a member gets the segment in its view (and its facet) and one more in the
count. A customer the projection wrote meanwhile is already counted (its view holds the
segment, or doesn't match); a view that changes during the transaction makes one of the
two transactions start again. Progress is saved after each window, so a restart goes on
from there; two processes counting the same segment count nobody twice.
"""

import asyncio
from collections import Counter
from datetime import timedelta

import pymongo
import structlog
from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from application.customer_filters import CustomerFilter
from application.ports import Clock, EventStore
from application.projections.customer_query_fields import segment_key
from application.segments.segment_filter import filter_from_json
from application.stopping import repeat_until_stopped
from domain.customer.events import CustomerRegistered
from domain.customer.state import CustomerState
from infrastructure.mongo.documents import CustomerView, SegmentCount, SegmentDefinition
from infrastructure.mongo.read_model_generations import ReadModelCollections, collection_name
from infrastructure.mongo.segments import DEFINITIONS_CACHE_SECONDS, any_shard, count_updates
from infrastructure.mongo.transaction_time import TRANSACTION_SECONDS

log = structlog.get_logger(__name__)

SETTLE_SECONDS = 2 * DEFINITIONS_CACHE_SECONDS + 1
# A window is one transaction, and a transaction must finish within TRANSACTION_SECONDS.
WINDOW = 500
POLL_SECONDS = 1.0


class SegmentCounting:
    def __init__(
        self, database: AsyncDatabase, event_store: EventStore, collections: ReadModelCollections, clock: Clock
    ):
        self._database = database
        self._event_store = event_store
        self._collections = collections
        self._clock = clock

    async def run(self, projection: str, stop: asyncio.Event) -> None:
        await repeat_until_stopped(
            lambda: self.count_pending(projection), POLL_SECONDS, stop, "counting segments failed"
        )

    async def count_pending(self, projection: str) -> int:
        """Counts every settled segment not counted yet, in every generation written; returns
        how many it finished."""
        finished = 0
        settled = self._clock.now() - timedelta(seconds=SETTLE_SECONDS)
        for generation in (await self._collections.generations(projection)).write:
            segments = self._database[collection_name(SegmentDefinition.Settings.name, generation)]
            pending = [
                document
                async for document in segments.find({"counted": False, "deleted": False})
                if document.get("stored_at", document["created_at"]) <= settled
            ]
            for document in pending:
                await self._count(generation, document)
                finished += 1
        return finished

    async def _count(self, generation: int, segment: dict) -> None:
        business_id, segment_id = segment["business_id"], segment["_id"]
        filter_ = filter_from_json(segment["filter"])
        segments = self._database[collection_name(SegmentDefinition.Settings.name, generation)]
        position = segment.get("counted_up_to", 0)
        head = await self._event_store.head_position(business_id)
        while position < head:
            end = min(head, position + WINDOW)
            events = await self._event_store.read_log(business_id, position, end)
            registered = {event.stream_id for event in events if isinstance(event.event, CustomerRegistered)}
            if registered:
                await self._count_customers(generation, business_id, segment_id, filter_, sorted(registered))
            position = end
            await segments.update_one({"_id": segment_id}, {"$max": {"counted_up_to": position}})
        await segments.update_one({"_id": segment_id}, {"$set": {"counted": True}})
        log.info("segment counted", segment_id=segment_id, business_id=business_id, generation=generation)

    async def _count_customers(
        self, generation: int, business_id: str, segment_id: str, filter_: CustomerFilter, customer_ids: list[str]
    ) -> None:
        views = self._database[collection_name(CustomerView.Settings.name, generation)]
        counts = self._database[collection_name(SegmentCount.Settings.name, generation)]

        async def write(session: AsyncClientSession) -> None:
            updates, deltas = [], Counter()
            cursor = views.find(
                {"_id": {"$in": customer_ids}}, {"state": 1, "segments": 1, "version": 1}, session=session
            )
            async for document in cursor:
                if segment_id in document.get("segments", []):
                    continue
                if not filter_.matches(CustomerState.model_validate(document["state"])):
                    continue
                updates.append(
                    UpdateOne(
                        {"_id": document["_id"], "version": document["version"]},
                        {"$addToSet": {"segments": segment_id, "facets": segment_key(segment_id)}},
                    )
                )
                deltas[(business_id, segment_id)] += 1
            if updates:
                await views.bulk_write(updates, ordered=False, session=session)
                await counts.bulk_write(count_updates(deltas, any_shard()), ordered=False, session=session)

        with pymongo.timeout(TRANSACTION_SECONDS):
            async with self._database.client.start_session() as session:
                await session.with_transaction(write)
