"""The ports the application needs; `infrastructure` implements them."""

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from application.commits import Commit, StoredOutcome
from application.customer_filters import CustomerFilter
from application.events import EventMetadata, RecordedEvent
from application.projections.customer_query_fields import SortField
from domain.customer.notes import Note
from domain.customer.profile import CustomerStatus
from domain.customer.purchases import OrderRecord, PaymentRecord, PurchaseHistory
from domain.customer.state import CustomerState


class EventStore(ABC):
    """Streams of events, each stream in one business; each business's events in one log.

    A business's log numbers its events 1, 2, 3... in commit order (its *positions*): that
    is the order the relay publishes them in, what `X-Position` and `min_position` speak
    of, and the only total order there is. Businesses share nothing, so appends of two
    businesses never wait on each other.
    """

    @abstractmethod
    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        """Writes the whole commit in one transaction; returns the position of its last event
        in the business's log.

        Raises `VersionConflict` when a stream has moved on, `ContactAlreadyTaken` when a
        claimed contact key is held by another customer, `IdempotencyKeyTaken` when a
        concurrent request committed under the same idempotency key, and
        `MessageAlreadyProcessed` when the commit's inbound message was committed before.
        """

    @abstractmethod
    async def load_stream(
        self, business_id: str, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events in version order (none for a stream of another business)."""

    async def load_streams(self, business_id: str, stream_ids: Collection[str]) -> dict[str, list[RecordedEvent]]:
        """Each stream's events in version order (only streams that have any); adapters
        read them at once."""
        loaded = {stream_id: await self.load_stream(business_id, stream_id) for stream_id in stream_ids}
        return {stream_id: events for stream_id, events in loaded.items() if events}

    @abstractmethod
    async def stream_version(self, business_id: str, stream_id: str) -> int:
        """The stream's last version, 0 when it has none."""

    @abstractmethod
    async def read_log(self, business_id: str, after_position: int, up_to_position: int) -> list[RecordedEvent]:
        """The business's events with `after_position < position <= up_to_position`, in order."""

    @abstractmethod
    async def head_position(self, business_id: str) -> int:
        """The position of the business's newest event, 0 when it has none."""

    @abstractmethod
    async def heads(self, after_business_id: str | None, limit: int) -> list[tuple[str, int]]:
        """(business id, head position) of the businesses with events, by id, after the given one."""

    @abstractmethod
    async def heads_of(self, business_ids: Collection[str]) -> dict[str, int]:
        """The head position of each of these businesses that has events."""


class NumberedNote(BaseModel):
    """Note `number` (1, 2, ...) of the customer it was added to."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str
    number: int
    note: Note


@dataclass(frozen=True)
class ViewChange:
    """A customer's view before (None: not there yet) and after a batch of its events, and
    the notes those events added to it."""

    before: CustomerState | None
    after: CustomerState
    notes: tuple[NumberedNote, ...] = ()

    @property
    def erased(self) -> bool:
        """Whether this batch erased the customer (its notes' contents go with it)."""
        return self.after.status == CustomerStatus.ERASED and (
            self.before is None or self.before.status != CustomerStatus.ERASED
        )

    @property
    def expected_version(self) -> int:
        return self.before.version if self.before else 0


class CustomerViewWriter(ABC):
    """The customer-details read model, as its projection writes it."""

    @abstractmethod
    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]: ...

    async def purchases_of(self, customers: Mapping[str, str]) -> dict[str, PurchaseHistory]:
        """The purchase histories of `customers` (id -> business id) that this read model
        keeps outside the states `get_many` gives: none, unless it says otherwise."""
        return {}

    @abstractmethod
    async def save_many(self, changes: Mapping[str, ViewChange]) -> None:
        """Writes each view if the stored one is still at the version it was read at.

        Raises `VersionConflict` if another writer moved one of them meanwhile.
        """


class CustomerViewStore(CustomerViewWriter):
    """The customer-details read model, as queries read it."""

    @abstractmethod
    async def get(self, business_id: str, customer_id: str) -> CustomerState | None: ...

    @abstractmethod
    async def deleted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(business id, customer id) of customers soft-deleted before `cutoff`, oldest first."""


class CustomerNotes(ABC):
    """The notes of the customer-details read model, outside the customers' documents."""

    @abstractmethod
    async def numbered(self, business_id: str, ranges: Mapping[str, tuple[int, int]]) -> list[NumberedNote]:
        """The notes of each customer whose numbers lie in its range (first, last), in one
        read that examines only those."""


class CustomerPurchases(ABC):
    """The purchase histories of the customer-details read model, outside the customers'
    documents, one record each, as a page reads them."""

    @abstractmethod
    async def orders(
        self, business_id: str, customer_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[OrderRecord]:
        """Up to `limit` orders, newest first by (`placed_at`, `order_id`), each below `before`."""

    @abstractmethod
    async def payments(
        self,
        business_id: str,
        customer_id: str,
        order_ids: Collection[str],
        since: datetime | None,
        until: datetime | None,
    ) -> list[PaymentRecord]:
        """The payments of `order_ids`, and those of no order of the customer's own (it
        only paid) made in [`since`, `until`) (an open end is None)."""


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    customer_id: str
    business_id: str
    version: int
    event_type: str
    actor: str
    occurred_at: datetime
    changed_fields: tuple[str, ...]
    correlation_id: str


class CustomerHistory(ABC):
    """The audit-trail read model."""

    @abstractmethod
    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        """Adds the entries; one already there is left as it is."""

    @abstractmethod
    async def page(
        self, business_id: str, customer_id: str, before_version: int | None, limit: int
    ) -> list[HistoryEntry]:
        """Newest first, versions below `before_version` when given."""


@dataclass(frozen=True)
class ListPosition:
    """Where a page continues: after this sort key (from it, when `inclusive`)."""

    key: str
    inclusive: bool = False


@dataclass(frozen=True)
class CustomerListCriteria:
    """One page of a business's customers, as the list, search, segment and export ask."""

    business_id: str
    filter: CustomerFilter
    sort: SortField
    descending: bool
    # Where the previous page stopped (its cursor), if any.
    after: ListPosition | None
    limit: int


@dataclass(frozen=True)
class ListedPage:
    customers: list[CustomerState]
    # Where the next page continues, or None at the end. A page may hold fewer than
    # `limit` customers and still have a next one: the work a page may do is bounded,
    # whatever the filters.
    next: ListPosition | None


class CustomerListing(ABC):
    """The list-and-search read model."""

    @abstractmethod
    async def page(self, criteria: CustomerListCriteria) -> ListedPage: ...


class CustomerCache(ABC):
    """Customer views kept warm in front of the read model. Never raises: a cache that is
    away is a cache that misses."""

    @abstractmethod
    async def get(self, business_id: str, customer_id: str) -> CustomerState | None: ...

    @abstractmethod
    async def put_many(self, states: Sequence[CustomerState]) -> None:
        """Stores each state unless the cache already holds the same or a newer version."""


class ReadModelAnnouncer(ABC):
    @abstractmethod
    async def announce(self) -> None:
        """Tells readers waiting for their writes that a read model moved on. Best effort."""


class ReadModelUpdates(ABC):
    """What readers waiting for their own writes listen to."""

    @abstractmethod
    def changes_seen(self) -> int:
        """A counter of announcements received; pass it to `wait_for_change`."""

    @abstractmethod
    async def wait_for_change(self, seen: int, timeout: float) -> None:
        """Returns once an announcement came after `seen`, after `timeout`, or after a short
        poll interval when announcements cannot be received."""


class Checkpoints(ABC):
    """How far each partition of a projection has applied each business's log."""

    @abstractmethod
    async def save(self, projection: str, partition: int, reached: Mapping[str, int]) -> None:
        """Records that the partition has applied every event meant for it of each business
        up to the given position (it never moves back)."""

    @abstractmethod
    async def reached(self, projection: str, business_id: str) -> int:
        """The position up to which every partition has applied the business's log."""


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime: ...


class IdGenerator(ABC):
    @abstractmethod
    def new_customer_id(self) -> str: ...

    @abstractmethod
    def new_note_id(self) -> str: ...

    @abstractmethod
    def new_segment_id(self) -> str: ...


class EventPublisher(ABC):
    @abstractmethod
    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        """Publishes in order and returns once the broker has confirmed every one."""

    @abstractmethod
    async def publish_watermarks(self, published: Mapping[str, int]) -> None:
        """Tells every partition of every projection that each business's log is published
        up to the given position: a partition that has handled this message has handled
        every event of the business up to there that was meant for it."""


class AppendAnnouncer(ABC):
    """Tells the relay a business's log reached `head`. A hint, never required: the relay
    also sweeps."""

    @abstractmethod
    async def appended(self, business_id: str, head: int) -> None: ...


class NoAppendAnnouncer(AppendAnnouncer):
    """For an event store nobody relays from (a test's second store, a tool's)."""

    async def appended(self, business_id: str, head: int) -> None:
        return None


class AppendSignal(ABC):
    """Wakes the relay when businesses of its log partitions append."""

    @abstractmethod
    async def wait(self, partitions: Collection[int], timeout: float) -> dict[str, int]:
        """Businesses of these log partitions that appended since the last call, each with
        the furthest head announced (returns as soon as there is one), or none after
        `timeout` seconds."""


@dataclass(frozen=True)
class Lease:
    """The right to do one partition's work, until `epoch` is superseded."""

    group: str
    partition: int
    owner: str
    epoch: int


class LeaseLost(Exception):
    """A lease's holder was superseded: another member took the partition over."""


class PartitionLeases(ABC):
    """One holder per (group, partition) at a time, with an epoch that grows at every change
    of holder (the fencing token of the writes made under the lease)."""

    @abstractmethod
    async def acquire(self, group: str, partition: int, owner: str) -> Lease | None:
        """Takes the partition if it is free or its lease expired, or renews it if `owner`
        holds it; None when another live holder has it."""

    @abstractmethod
    async def release(self, lease: Lease) -> None: ...


class RelayProgress(ABC):
    """How far the relay has published each business's log."""

    @abstractmethod
    async def published(self, business_ids: Collection[str]) -> dict[str, int]: ...

    @abstractmethod
    async def record(self, lease: Lease, published: Mapping[str, int]) -> None:
        """Saves the positions, unless a relay with a newer lease of the partition wrote
        first: then raises `LeaseLost`."""

    @abstractmethod
    async def behind(self, partition: int) -> set[str]:
        """The businesses of a log partition whose log is ahead of what was published."""


class Membership(ABC):
    """The live replicas of a worker, to divide partitions among them."""

    @abstractmethod
    async def heartbeat(self, group: str, member: str) -> list[str]:
        """Says `member` is alive and returns every live member of the group (itself too)."""

    @abstractmethod
    async def leave(self, group: str, member: str) -> None: ...


class IdempotencyOutcomes(ABC):
    @abstractmethod
    async def find(self, key: str) -> StoredOutcome | None:
        """The outcome committed under this key (kept at least 24 hours), if any."""


class Snapshots(ABC):
    @abstractmethod
    async def load(self, business_id: str, customer_id: str, with_purchases: bool) -> CustomerState | None:
        """The customer's state as of its last append, unless code with another state shape
        wrote it (the event store writes it with the events).

        The purchase history is kept outside the snapshot, a record per order and payment,
        written in the same transaction: read only `with_purchases` (otherwise
        `state.purchases` is empty, and the metrics are those of the whole history). The
        records are read after the snapshot, so they are never older than it."""

    @abstractmethod
    async def records_written(self, business_id: str, customer_id: str) -> bool:
        """Whether the customer's purchase records are kept (its last append was by code
        that writes them), whatever the shape of its snapshot."""


class AccessRecord(BaseModel):
    """One access to customers' personal data: who, what, when, from which business."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    business_id: str
    customer_ids: tuple[str, ...]
    action: str
    correlation_id: str


@dataclass(frozen=True)
class AccessLogQuery:
    """One page of a business's access log, newest first (by `at`, then id); every filter
    is optional and they combine with AND."""

    business_id: str
    customer_id: str | None
    actor: str | None
    # Exclusive bounds on `at`.
    after: datetime | None
    before: datetime | None
    # Where the previous page stopped: entries strictly older than (at, id); with no id,
    # strictly older than `at`.
    stopped_at: tuple[datetime, str | None] | None
    limit: int
    # The newest `at` there can be (now, with a margin for the clocks) when no bound is lower.
    now: datetime
    # The width of the first time window read (the previous page's: it follows the density).
    window_seconds: float = 1.0


@dataclass(frozen=True)
class AccessLogSlice:
    entries: list[tuple[str, AccessRecord]]
    # Where the next page starts (as `stopped_at`), or None when nothing older can match.
    resume: tuple[datetime, str | None] | None
    window_seconds: float


class AccessLog(ABC):
    """An append-only log, not a projection: no rebuild touches it."""

    @abstractmethod
    async def record(self, record: AccessRecord) -> None: ...

    async def record_into(self, entry_id: str, record: AccessRecord) -> None:
        """Adds the record's customers to the entry `entry_id`, which the first call creates
        with the record's other fields: one entry for a read that comes in pages (a bulk
        export). Adapters that cannot grow an entry write each part as an entry of its own."""
        await self.record(record)

    @abstractmethod
    async def about(self, business_id: str, customer_id: str | None, limit: int) -> list[AccessRecord]:
        """Newest first; every customer of the business when `customer_id` is None."""

    @abstractmethod
    async def page(self, query: AccessLogQuery) -> AccessLogSlice:
        """Up to `limit` entries (each with its id) after `stopped_at`, newest first; fewer
        when the read budget ran out first (then `resume` continues where it stopped)."""


class ContactKeyHolders(ABC):
    """Reads the uniqueness guard: which active customer holds an email or a phone."""

    @abstractmethod
    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        """The id of the customer holding (kind, normalized value) in the business, if any."""

    async def holders(self, business_id: str, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The holder of each (kind, normalized value) that has one; adapters read them at once."""
        found = {key: await self.holder(business_id, *key) for key in keys}
        return {key: holder for key, holder in found.items() if holder is not None}


class ProcessedMessages(ABC):
    @abstractmethod
    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        """Those of the ids whose message was committed before."""
