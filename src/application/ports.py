"""The ports the application needs; `infrastructure` implements them."""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from application.commits import Commit, StoredOutcome
from application.events import EventMetadata, RecordedEvent
from application.projections.customer_query_fields import SortField
from domain.customer.aggregate import CustomerState
from domain.customer.profile import CustomerStatus


class EventStore(ABC):
    @abstractmethod
    async def append(self, commit: Commit, metadata: EventMetadata) -> int:
        """Writes the whole commit in one transaction; returns the global position of its last event.

        Raises `VersionConflict` when a stream has moved on, `ContactAlreadyTaken` when a
        claimed contact key is held by another customer, `IdempotencyKeyTaken` when a
        concurrent request committed under the same idempotency key, and
        `MessageAlreadyProcessed` when the commit's inbound message was committed before.
        """

    @abstractmethod
    async def load_stream(
        self, stream_id: str, after_version: int = 0, up_to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events in version order."""

    @abstractmethod
    async def stream_version(self, stream_id: str) -> int:
        """The stream's last version, 0 when it has none."""

    @abstractmethod
    async def read_all(self, after_position: int, limit: int) -> list[RecordedEvent]:
        """Events of every stream after a global position, in position order."""

    @abstractmethod
    async def head_position(self) -> int:
        """The global position of the newest event, 0 when there is none."""


class CustomerViewStore(ABC):
    """The customer-details read model."""

    @abstractmethod
    async def get(self, business_id: str, customer_id: str) -> CustomerState | None: ...

    @abstractmethod
    async def get_many(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]: ...

    @abstractmethod
    async def deleted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(business id, customer id) of customers soft-deleted before `cutoff`, oldest first."""

    @abstractmethod
    async def save_many(self, views: Mapping[str, tuple[int, CustomerState]]) -> None:
        """Writes each view if the stored one is still at the given version (0: absent).

        Raises `VersionConflict` if another writer moved one of them meanwhile.
        """


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
class CustomerListCriteria:
    """One page of a business's customers, as the list and search queries ask for it."""

    business_id: str
    status: CustomerStatus
    # Lookup keys (`q:ana`, `tag:vip`...) a customer must all have, most selective first.
    required_keys: tuple[str, ...]
    # Search terms longer than the stored prefixes: checked against the whole words.
    long_terms: tuple[str, ...]
    sort: SortField
    descending: bool
    # The sort key of the last customer of the previous page.
    after_key: str | None
    limit: int


@dataclass(frozen=True)
class ListedCustomer:
    state: CustomerState
    sort_key: str


class CustomerListing(ABC):
    """The list-and-search read model."""

    @abstractmethod
    async def find(self, criteria: CustomerListCriteria) -> list[ListedCustomer]:
        """Up to `criteria.limit` customers after `after_key`, in sort order."""


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
    async def announce(self, position: int) -> None:
        """Tells readers that the read model has moved up to `position`. Best effort."""


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
    """How far a follower of the global log (the relay, a projection) has got."""

    @abstractmethod
    async def save(self, name: str, position: int) -> None: ...

    @abstractmethod
    async def load(self, name: str) -> int: ...


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime: ...


class IdGenerator(ABC):
    @abstractmethod
    def new_customer_id(self) -> str: ...

    @abstractmethod
    def new_note_id(self) -> str: ...


class EventPublisher(ABC):
    @abstractmethod
    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        """Publishes in order and returns once the broker has confirmed every one."""


class NewEventsSignal(ABC):
    @abstractmethod
    async def wait(self, timeout: float) -> None:
        """Returns soon after new events may have been appended, or after `timeout` seconds."""


class IdempotencyOutcomes(ABC):
    @abstractmethod
    async def find(self, key: str) -> StoredOutcome | None:
        """The outcome committed under this key (kept at least 24 hours), if any."""


class Snapshots(ABC):
    @abstractmethod
    async def load(self, customer_id: str) -> CustomerState | None:
        """The latest snapshot, unless it was taken by code with another state shape."""

    @abstractmethod
    async def save(self, state: CustomerState) -> None: ...


class AccessRecord(BaseModel):
    """One access to customers' personal data: who, what, when, from which business."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    business_id: str
    customer_ids: tuple[str, ...]
    action: str
    correlation_id: str


class AccessLog(ABC):
    """An append-only log, not a projection: no rebuild touches it."""

    @abstractmethod
    async def record(self, record: AccessRecord) -> None: ...

    @abstractmethod
    async def about(self, business_id: str, customer_id: str | None, limit: int) -> list[AccessRecord]:
        """Newest first; every customer of the business when `customer_id` is None."""


class ContactKeyHolders(ABC):
    """Reads the uniqueness guard: which active customer holds an email or a phone."""

    @abstractmethod
    async def holder(self, business_id: str, kind: str, value: str) -> str | None:
        """The id of the customer holding (kind, normalized value) in the business, if any."""


class ProcessedMessages(ABC):
    @abstractmethod
    async def already_processed(self, message_ids: Sequence[str]) -> set[str]:
        """Those of the ids whose message was committed before."""
