"""Keeps the customer-details read model up to date from recorded events.

Each view stores the version of the last event applied to it, which makes the projection
idempotent (an event at or below that version is a duplicate) and ordered (an event
beyond the next version means some were not delivered yet; they are read from the event
store, so nothing is ever applied out of order).

It refreshes the cached views, then writes the batch; the partition's runner then records
the watermarks and announces (`partition_batches`), so a reader woken by the announcement
finds the cache already fresh.

It also keeps the business's segments (their definitions, from the segment events): the
view writer stores which segments each customer belongs to, and counts them.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from application.events import RecordedEvent
from application.ports import CustomerCache, CustomerViewWriter, EventStore, ViewChange
from application.segments.ports import SegmentView, SegmentWriter
from domain.customer.aggregate import Customer
from domain.customer.events import CustomerEvent
from domain.segment.events import SegmentDefined, SegmentDeleted

PROJECTION_NAME = "customer_details"
# Bump when a change to this projection (or to the query fields it derives) changes the
# documents it writes: `crm projections status` then flags the read model for a rebuild.
# 2: the purchase facets and sort keys follow the customer's metrics.
# 3: metrics.total_items and billing (contract v1.1).
PROJECTION_VERSION = 3


@dataclass(frozen=True)
class BatchOutcome:
    applied: int
    duplicates: int
    gap_events_fetched: int


class ProjectCustomerDetails:
    def __init__(
        self,
        views: CustomerViewWriter,
        event_store: EventStore,
        cache: CustomerCache,
        segments: SegmentWriter,
    ):
        self._views = views
        self._event_store = event_store
        self._cache = cache
        self._segments = segments

    async def execute(self, batch: Sequence[RecordedEvent]) -> BatchOutcome:
        if not batch:
            return BatchOutcome(0, 0, 0)
        await self._keep_segments([recorded for recorded in batch if not isinstance(recorded.event, CustomerEvent)])
        by_stream: dict[str, list[RecordedEvent]] = defaultdict(list)
        for recorded in batch:
            if isinstance(recorded.event, CustomerEvent):
                by_stream[recorded.stream_id].append(recorded)
        stored = await self._views.get_many(list(by_stream))

        changes: dict[str, ViewChange] = {}
        applied = duplicates = fetched = 0
        for stream_id, events in by_stream.items():
            view = stored.get(stream_id)
            stored_version = view.version if view else 0
            customer = Customer.from_state(view) if view else Customer(stream_id)
            for recorded in sorted(events, key=lambda e: e.version):
                if recorded.version <= customer.version:
                    duplicates += 1
                    continue
                if recorded.version > customer.version + 1:
                    missing = await self._event_store.load_stream(
                        recorded.metadata.business_id,
                        stream_id,
                        after_version=customer.version,
                        up_to_version=recorded.version - 1,
                    )
                    for gap_event in missing:
                        customer.apply(gap_event.event_as(CustomerEvent))
                    fetched += len(missing)
                customer.apply(recorded.event_as(CustomerEvent))
                applied += 1
            if customer.version > stored_version:
                changes[stream_id] = ViewChange(view, customer.state)

        # The read model first, then the cache: a batch whose save fails (a version conflict
        # with a stale stored view) must not leave its states in the cache, where a version
        # number would keep the right state of the same version out.
        await self._views.save_many(changes)
        await self._cache.put_many([change.after for change in changes.values()])
        return BatchOutcome(applied, duplicates, fetched)

    async def _keep_segments(self, events: Sequence[RecordedEvent]) -> None:
        for recorded in events:
            match recorded.event:
                case SegmentDefined() as defined:
                    view = SegmentView(
                        id=recorded.stream_id,
                        business_id=defined.business_id,
                        name=defined.name,
                        filter=defined.filter,
                        created_at=defined.occurred_at,
                    )
                    await self._segments.define(view, recorded.version)
                case SegmentDeleted():
                    await self._segments.delete(recorded.metadata.business_id, recorded.stream_id, recorded.version)
