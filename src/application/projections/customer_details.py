"""Keeps the customer-details read model up to date from recorded events.

Each view stores the version of the last event applied to it, which makes the projection
idempotent (an event at or below that version is a duplicate) and ordered (an event
beyond the next version means some were not delivered yet; they are read from the event
store, so nothing is ever applied out of order).

After writing a batch it refreshes the cached views and announces the new position, in
that order, so that a reader woken by the announcement finds the cache already fresh.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from application.events import RecordedEvent
from application.ports import Checkpoints, CustomerCache, CustomerViewStore, EventStore, ReadModelAnnouncer
from domain.customer.aggregate import Customer, CustomerState

PROJECTION_NAME = "customer_details"
# Bump when a change to this projection (or to the query fields it derives) changes the
# documents it writes: `crm projections status` then flags the read model for a rebuild.
PROJECTION_VERSION = 1


@dataclass(frozen=True)
class BatchOutcome:
    applied: int
    duplicates: int
    gap_events_fetched: int


class ProjectCustomerDetails:
    def __init__(
        self,
        views: CustomerViewStore,
        event_store: EventStore,
        checkpoints: Checkpoints,
        cache: CustomerCache,
        announcer: ReadModelAnnouncer,
    ):
        self._views = views
        self._event_store = event_store
        self._checkpoints = checkpoints
        self._cache = cache
        self._announcer = announcer

    async def execute(self, batch: Sequence[RecordedEvent]) -> BatchOutcome:
        if not batch:
            return BatchOutcome(0, 0, 0)
        by_stream: dict[str, list[RecordedEvent]] = defaultdict(list)
        for recorded in batch:
            by_stream[recorded.stream_id].append(recorded)
        stored = await self._views.get_many(list(by_stream))

        changes: dict[str, tuple[int, CustomerState]] = {}
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
                        stream_id, after_version=customer.version, up_to_version=recorded.version - 1
                    )
                    for gap_event in missing:
                        customer.apply(gap_event.event)
                    fetched += len(missing)
                customer.apply(recorded.event)
                applied += 1
            if customer.version > stored_version:
                changes[stream_id] = (stored_version, customer.state)

        await self._views.save_many(changes)
        position = max(recorded.position for recorded in batch)
        await self._checkpoints.save(PROJECTION_NAME, position)
        await self._cache.put_many([state for _, state in changes.values()])
        await self._announcer.announce(position)
        return BatchOutcome(applied, duplicates, fetched)
