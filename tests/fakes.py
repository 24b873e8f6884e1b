"""In-memory fakes of the application's ports, for unit tests of handlers (never of drivers)."""

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from application.commits import Commit, StoredOutcome
from application.errors import VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.ports import (
    Checkpoints,
    Clock,
    CustomerCache,
    CustomerViewStore,
    EventPublisher,
    EventStore,
    IdempotencyOutcomes,
    IdGenerator,
    Lease,
    LeaseLost,
    ReadModelAnnouncer,
    RelayProgress,
    Snapshots,
    ViewChange,
)
from application.segments.ports import SegmentView, SegmentWriter
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import CustomerState


class FixedClock(Clock):
    def __init__(self, start: datetime = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class SequentialIds(IdGenerator):
    def __init__(self) -> None:
        self.count = 0

    def new_customer_id(self) -> str:
        self.count += 1
        return f"cus_{self.count:04d}"

    def new_note_id(self) -> str:
        self.count += 1
        return f"note_{self.count:04d}"

    def new_segment_id(self) -> str:
        self.count += 1
        return f"seg_{self.count:04d}"


class InMemoryEventStore(EventStore):
    """Streams and business logs in memory; like the real store, it keeps each customer's
    snapshot (the state a commit carries) beside its events."""

    def __init__(self, clock: Clock | None = None):
        self.events: list[RecordedEvent] = []
        self.snapshots: dict[str, CustomerState] = {}
        self._clock = clock or FixedClock()

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        business_id = commit.business_id
        for stream in commit.streams:
            if await self.stream_version(business_id, stream.stream_id) != stream.expected_version:
                raise VersionConflict(stream.stream_id, stream.expected_version)
        position = await self.head_position(business_id)
        for stream in commit.streams:
            for offset, event in enumerate(stream.events):
                position += 1
                self.events.append(
                    RecordedEvent(
                        event_id=f"evt_{len(self.events) + 1}",
                        stream_id=stream.stream_id,
                        version=stream.expected_version + offset + 1,
                        position=position,
                        recorded_at=self._clock.now(),
                        metadata=metadata,
                        event=event,
                    )
                )
            if isinstance(stream.snapshot, CustomerState):
                self.snapshots[stream.stream_id] = stream.snapshot
        return position

    def _of(self, business_id: str) -> list[RecordedEvent]:
        return [event for event in self.events if event.metadata.business_id == business_id]

    async def load_stream(
        self, business_id: str, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        return [
            event
            for event in self._of(business_id)
            if event.stream_id == stream_id
            and event.version > after_version
            and (up_to_version is None or event.version <= up_to_version)
        ]

    async def stream_version(self, business_id: str, stream_id: str) -> int:
        return max((event.version for event in self._of(business_id) if event.stream_id == stream_id), default=0)

    async def read_log(self, business_id: str, after_position: int, up_to_position: int) -> list[RecordedEvent]:
        return [event for event in self._of(business_id) if after_position < event.position <= up_to_position]

    async def head_position(self, business_id: str) -> int:
        return max((event.position for event in self._of(business_id)), default=0)

    async def heads(self, after_business_id: str | None, limit: int) -> list[tuple[str, int]]:
        businesses = sorted({event.metadata.business_id for event in self.events})
        chosen = [business for business in businesses if after_business_id is None or business > after_business_id]
        return [(business, await self.head_position(business)) for business in chosen[:limit]]

    async def heads_of(self, business_ids: Collection[str]) -> dict[str, int]:
        return {business: head for business in business_ids if (head := await self.head_position(business))}


class InMemoryCustomerViews(CustomerViewStore):
    def __init__(self) -> None:
        self.views: dict[str, CustomerState] = {}
        self.writes = 0

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        view = self.views.get(customer_id)
        return view if view and view.business_id == business_id else None

    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        return {customer_id: self.views[customer_id] for customer_id in customer_ids if customer_id in self.views}

    async def deleted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        deleted = sorted(
            (
                view
                for view in self.views.values()
                if view.deleted_at and view.deleted_at < cutoff and view.status == "deleted"
            ),
            key=lambda view: view.deleted_at,
        )
        return [(view.business_id, view.id) for view in deleted][:limit]

    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        for customer_id, change in changes.items():
            current = self.views.get(customer_id)
            if (current.version if current else 0) != change.expected_version:
                raise VersionConflict(customer_id, change.expected_version)
            self.views[customer_id] = change.after
            self.writes += 1


class InMemoryCheckpoints(Checkpoints):
    def __init__(self, partitions: int = 1) -> None:
        self.partitions = partitions
        self.positions: dict[tuple[str, str, int], int] = {}

    async def save(self, projection: str, partition: int, reached: Mapping[str, int]) -> None:
        for business_id, position in reached.items():
            key = (projection, business_id, partition)
            self.positions[key] = max(position, self.positions.get(key, 0))

    async def reached(self, projection: str, business_id: str) -> int:
        return min(self.positions.get((projection, business_id, k), 0) for k in range(self.partitions))


class RecordingPublisher(EventPublisher):
    def __init__(self) -> None:
        self.published: list[RecordedEvent] = []
        self.watermarks: list[dict[str, int]] = []
        self.fail_next = False

    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unavailable")
        self.published.extend(events)

    async def publish_watermarks(self, published: Mapping[str, int]) -> None:
        self.watermarks.append(dict(published))


class InMemoryRelayProgress(RelayProgress):
    def __init__(self, event_store: InMemoryEventStore) -> None:
        self.positions: dict[str, tuple[int, int]] = {}  # business -> (published, epoch)
        self._event_store = event_store

    async def published(self, business_ids: Collection[str]) -> dict[str, int]:
        return {b: self.positions[b][0] for b in business_ids if b in self.positions}

    async def record(self, lease: Lease, published: Mapping[str, int]) -> None:
        for business_id, position in published.items():
            current, epoch = self.positions.get(business_id, (0, 0))
            if epoch > lease.epoch:
                raise LeaseLost(f"partition {lease.partition}")
            self.positions[business_id] = (max(current, position), lease.epoch)

    async def behind(self, partition: int) -> set[str]:
        heads = await self._event_store.heads(None, 10_000)
        return {b for b, head in heads if head > self.positions.get(b, (0, 0))[0]}


class StoreSnapshots(Snapshots):
    """The snapshots the in-memory event store keeps, as the real adapter reads them."""

    def __init__(self, event_store: InMemoryEventStore) -> None:
        self._event_store = event_store

    async def load(self, business_id: str, customer_id: str, with_purchases: bool) -> CustomerState | None:
        state = self._event_store.snapshots.get(customer_id)
        if state is None or state.business_id != business_id:
            return None
        # The real snapshot keeps the history outside, read only when asked for.
        return state if with_purchases else state.model_copy(update={"purchases": PurchaseHistory()})

    async def records_written(self, business_id: str, customer_id: str) -> bool:
        return True  # the in-memory store keeps each whole state


class NoSnapshots(Snapshots):
    async def load(self, business_id: str, customer_id: str, with_purchases: bool) -> CustomerState | None:
        return None

    async def records_written(self, business_id: str, customer_id: str) -> bool:
        return True


class NoOutcomes(IdempotencyOutcomes):
    async def find(self, key: str) -> StoredOutcome | None:
        return None


class InMemoryCustomerCache(CustomerCache):
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], CustomerState] = {}

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        return self.entries.get((business_id, customer_id))

    async def put_many(self, states: Sequence[CustomerState]) -> None:
        for state in states:
            current = self.entries.get((state.business_id, state.id))
            if current is None or current.version < state.version:
                self.entries[(state.business_id, state.id)] = state


class RecordingAnnouncer(ReadModelAnnouncer):
    def __init__(self) -> None:
        self.announcements = 0

    async def announce(self) -> None:
        self.announcements += 1


class InMemorySegments(SegmentWriter):
    def __init__(self) -> None:
        self.segments: dict[str, tuple[int, SegmentView | None]] = {}

    async def define(self, segment: SegmentView, version: int) -> None:
        if self.segments.get(segment.id, (0, None))[0] < version:
            self.segments[segment.id] = (version, segment)

    async def delete(self, business_id: str, segment_id: str, version: int) -> None:
        if self.segments.get(segment_id, (0, None))[0] < version:
            self.segments[segment_id] = (version, None)
