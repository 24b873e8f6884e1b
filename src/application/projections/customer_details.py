"""Keeps the customer-details read model up to date from recorded events.

Each view stores the version of the last event applied to it, which makes the projection
idempotent (an event at or below that version is a duplicate) and ordered (an event
beyond the next version means some were not delivered yet; they are read from the event
store, so nothing is ever applied out of order).

It refreshes the cached views, then writes the batch; the partition's runner then records
the watermarks and announces (`partition_batches`), so a reader woken by the announcement
finds the cache already fresh.

The notes stay outside the views: each NoteAdded becomes note n of its customer, n being
how many notes the customer's state counts once it is applied (so a replay numbers them
the same). The view writer stores them with the view, and blanks them at an erasure.

Purchase histories stay outside the views too, a record per order and per payment. A view
holds the metrics; the projector reads a customer's history back only when the batch folds
an event that needs it (`reads_purchases`), and the writer stores the records that changed.

It also keeps the business's segments (their definitions, from the segment events): the
view writer stores which segments each customer belongs to, and counts them.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from application.events import RecordedEvent
from application.ports import CustomerCache, CustomerViewWriter, EventStore, NumberedNote, ViewChange
from application.segments.ports import SegmentView, SegmentWriter
from domain.customer.aggregate import Customer
from domain.customer.events import CustomerEvent, NoteAdded
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import CustomerState, reads_purchases
from domain.segment.events import SegmentDefined, SegmentDeleted

PROJECTION_NAME = "customer_details"
# Bump when a change to this projection (or to the query fields it derives) changes the
# documents it writes: `crm projections status` then flags the read model for a rebuild.
# 2: the purchase facets and sort keys follow the customer's metrics.
# 3: metrics.total_items and billing (contract v1.1).
# 4: notes outside the views (customer_notes), numbered per customer.
# 5: purchase histories outside the views (customer_purchases), one record per document.
# 6: search terms are prefixes of at most 8 characters, not 15 (entries of version 5 still
#    answer every search: they hold those prefixes too).
PROJECTION_VERSION = 6


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
        # Purchase histories live outside the views: read (in one go) those the batch folds.
        histories = await self._views.purchases_of(
            {
                stream_id: events[0].metadata.business_id
                for stream_id, events in by_stream.items()
                if stream_id in stored and any(reads_purchases(recorded.event) for recorded in events)
            }
        )

        changes: dict[str, ViewChange] = {}
        applied = duplicates = fetched = 0
        for stream_id, events in by_stream.items():
            view = stored.get(stream_id)
            if view is not None and stream_id in histories:
                view = _with_history(view, histories[stream_id])
            stored_version = view.version if view else 0
            customer = Customer.from_state(view) if view else Customer(stream_id)
            notes: list[NumberedNote] = []
            for recorded in sorted(events, key=lambda e: e.version):
                if recorded.version <= customer.version:
                    duplicates += 1
                    continue
                if recorded.version > customer.version + 1:
                    business_id = recorded.metadata.business_id
                    missing = await self._event_store.load_stream(
                        business_id, stream_id, after_version=customer.version, up_to_version=recorded.version - 1
                    )
                    if (
                        view is not None
                        and stream_id not in histories
                        and any(reads_purchases(gap.event) for gap in missing)
                    ):
                        # A gap the batch did not show: its history is read now.
                        histories |= await self._views.purchases_of({stream_id: business_id})
                        history = histories.get(stream_id, PurchaseHistory())
                        view = _with_history(view, history)
                        customer = Customer.from_state(_with_history(customer.state, history))
                    for gap_event in missing:
                        _apply(customer, gap_event, notes)
                    fetched += len(missing)
                _apply(customer, recorded, notes)
                applied += 1
            if customer.version > stored_version:
                changes[stream_id] = ViewChange(view, customer.state, tuple(notes))

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


def _with_history(state: CustomerState, history: PurchaseHistory) -> CustomerState:
    # A view written before histories moved out still holds its own: both are facts, merged.
    return state.model_copy(update={"purchases": state.purchases.merged_with(history)})


def _apply(customer: Customer, recorded: RecordedEvent, notes: list[NumberedNote]) -> None:
    event = recorded.event_as(CustomerEvent)
    customer.apply(event)
    if isinstance(event, NoteAdded):
        state = customer.state
        number = state.note_counts[state.id]
        notes.append(NumberedNote(business_id=state.business_id, customer_id=state.id, number=number, note=event.note))
