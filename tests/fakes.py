"""In-memory fakes of the application's ports, for unit tests of handlers (never of drivers)."""

from collections.abc import Mapping, Sequence
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
    NewEventsSignal,
    ReadModelAnnouncer,
    Snapshots,
)
from domain.customer.aggregate import CustomerState


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


class InMemoryEventStore(EventStore):
    def __init__(self, clock: Clock | None = None):
        self.events: list[RecordedEvent] = []
        self._clock = clock or FixedClock()

    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        for stream in commit.streams:
            if await self.stream_version(stream.stream_id) != stream.expected_version:
                raise VersionConflict(stream.stream_id, stream.expected_version)
        for stream in commit.streams:
            for offset, event in enumerate(stream.events):
                self.events.append(
                    RecordedEvent(
                        event_id=f"evt_{len(self.events) + 1}",
                        stream_id=stream.stream_id,
                        version=stream.expected_version + offset + 1,
                        position=len(self.events) + 1,
                        recorded_at=self._clock.now(),
                        metadata=metadata,
                        event=event,
                    )
                )
        return len(self.events)

    async def load_stream(
        self, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        return [
            event
            for event in self.events
            if event.stream_id == stream_id
            and event.version > after_version
            and (up_to_version is None or event.version <= up_to_version)
        ]

    async def stream_version(self, stream_id: str) -> int:
        return max((event.version for event in self.events if event.stream_id == stream_id), default=0)

    async def read_all(self, after_position: int, limit: int) -> list[RecordedEvent]:
        return [event for event in self.events if event.position > after_position][:limit]

    async def head_position(self) -> int:
        return len(self.events)


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
            (view for view in self.views.values() if view.deleted_at and view.deleted_at < cutoff and view.status == "deleted"),
            key=lambda view: view.deleted_at,
        )
        return [(view.business_id, view.id) for view in deleted][:limit]

    async def save_many(self, views: Mapping[str, tuple[int, CustomerState]]) -> None:
        for customer_id, (expected_version, state) in views.items():
            current = self.views.get(customer_id)
            if (current.version if current else 0) != expected_version:
                raise VersionConflict(customer_id, expected_version)
            self.views[customer_id] = state
            self.writes += 1


class InMemoryCheckpoints(Checkpoints):
    def __init__(self) -> None:
        self.positions: dict[str, int] = {}

    async def save(self, name: str, position: int) -> None:
        self.positions[name] = max(position, self.positions.get(name, 0))

    async def load(self, name: str) -> int:
        return self.positions.get(name, 0)


class RecordingPublisher(EventPublisher):
    def __init__(self) -> None:
        self.published: list[RecordedEvent] = []
        self.fail_next = False

    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker unavailable")
        self.published.extend(events)


class NoSignal(NewEventsSignal):
    async def wait(self, timeout: float) -> None:
        return None


class NoSnapshots(Snapshots):
    async def load(self, customer_id: str) -> CustomerState | None:
        return None

    async def save(self, state: CustomerState) -> None:
        return None


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
        self.positions: list[int] = []

    async def announce(self, position: int) -> None:
        self.positions.append(position)
