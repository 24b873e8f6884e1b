"""Beanie documents: the persisted shapes, and the indexes each collection needs."""

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class StoredEvent(Document):
    """One event of the event store. The `_id` is the event id."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    stream_id: str
    version: int
    position: int
    event_type: str
    schema_version: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    class Settings:
        name = "events"
        indexes = [
            # Optimistic concurrency: two writers cannot both append version N.
            IndexModel([("stream_id", ASCENDING), ("version", ASCENDING)], unique=True, name="stream_version"),
            # The global log that the relay and rebuilds follow.
            IndexModel([("position", ASCENDING)], unique=True, name="position"),
        ]


class PositionCounter(Document):
    """Hands out global positions inside the append transaction, so they follow commit order."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "counters"


class Checkpoint(Document):
    """How far a follower of the global log (the relay, a projection) has got."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    position: int = 0
    updated_at: datetime | None = None
    # For a projection: the version of the code that built its read model (see `status`).
    projection_version: int | None = None

    class Settings:
        name = "checkpoints"


class ProjectionBuild(Document):
    """A rebuild (or verify) under way: into which collection, and up to which position.
    `_id` is `<purpose>:<projection>`; the document goes when the build is swapped or dropped."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    projection: str
    collection: str
    position: int = 0
    projection_version: int
    started_at: datetime
    updated_at: datetime

    class Settings:
        name = "projection_builds"


class ProjectionActivity(Document):
    """What a live projector last did: its apply rate and its last error (`_id`: projection)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    events_per_second: float = 0.0
    last_batch_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    class Settings:
        name = "projection_activity"


class CustomerView(Document):
    """The customer-details read model: the aggregate's state as of `version`, and the
    lookup and sort keys the list and search queries use (see `customer_query_fields`)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    version: int
    state: dict[str, Any]
    status: str
    lookup_keys: list[str]
    search_words: list[str]
    sort: dict[str, str]

    class Settings:
        name = "customer_details"
        # Equalities first, then the one range a page walks (its sort key), as both MongoDB
        # (sort from the index) and SecantusDB (range lookup) serve: see customer_listing.py.
        indexes = [
            # The retention job's question: who has been deleted for longest.
            IndexModel([("status", ASCENDING), ("state.deleted_at", ASCENDING)], name="deleted_since"),
            *(
                IndexModel(
                    [("business_id", ASCENDING), ("status", ASCENDING), (f"sort.{field}", ASCENDING)],
                    name=f"list_by_{field}",
                )
                for field in ("created_at", "last_name", "last_purchase_at", "total_spent")
            ),
            # Search and filters, newest first. One multikey index only: each customer has
            # ~50 lookup keys, and every other sort order would multiply those writes.
            IndexModel(
                [("business_id", ASCENDING), ("status", ASCENDING), ("lookup_keys", ASCENDING),
                 ("sort.created_at", ASCENDING)],
                name="lookup_by_created_at",
            ),
        ]


class ContactKeyHolder(Document):
    """Which active customer holds an email or a phone in a business.

    The unique `_id` (business, kind, value) is what makes two concurrent registrations
    with one email impossible: it is written in the transaction that appends the events.
    """

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    kind: str
    customer_id: str

    class Settings:
        name = "contact_keys"


class IdempotencyOutcome(Document):
    """The outcome of a request sent with an Idempotency-Key, written with its events."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    # The customers it shows, so that erasing one of them deletes the outcome.
    customer_ids: list[str] = []
    request_hash: str
    outcome: dict[str, Any]
    position: int | None = None
    created_at: datetime

    class Settings:
        name = "idempotency_outcomes"
        indexes = [
            IndexModel([("customer_ids", ASCENDING)], name="customer_ids"),
            # Keys live at least 24 hours; MongoDB removes them after 48.
            IndexModel([("created_at", ASCENDING)], expireAfterSeconds=48 * 3600, name="expire_after_48h"),
        ]


class CustomerSnapshot(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    version: int
    shape: str
    state: dict[str, Any]

    class Settings:
        name = "customer_snapshots"


class CustomerHistoryEntry(Document):
    """One entry of a customer's audit trail; `_id` is the event id."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    customer_id: str
    business_id: str
    version: int
    event_type: str
    actor: str
    occurred_at: datetime
    changed_fields: list[str]
    correlation_id: str

    class Settings:
        name = "customer_history"
        indexes = [
            IndexModel(
                [("business_id", ASCENDING), ("customer_id", ASCENDING), ("version", DESCENDING)],
                name="customer_newest_first",
            ),
        ]


class CustomerDataKey(Document):
    """A customer's data key, wrapped by the master key `master_key_id`."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    master_key_id: str
    wrapped: bytes
    created_at: datetime

    class Settings:
        name = "customer_keys"


class AccessLogEntry(Document):
    """Who read or exported which customers' personal data, when, from which business."""

    at: datetime
    actor: str
    business_id: str
    customer_ids: list[str]
    action: str
    correlation_id: str

    class Settings:
        name = "access_log"
        indexes = [
            IndexModel([("business_id", ASCENDING), ("customer_ids", ASCENDING), ("at", DESCENDING)],
                       name="business_customer_newest"),
            IndexModel([("business_id", ASCENDING), ("at", DESCENDING)], name="business_newest"),
        ]


class ProcessedMessage(Document):
    """An inbound message (order or payment event) whose effects are committed; `_id` is its
    `event_id`. Written in the transaction of its effects, so a redelivery changes nothing.
    Kept for good: a parked message can be replayed from its dead-letter queue much later."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    position: int
    processed_at: datetime

    class Settings:
        name = "processed_messages"


ALL_DOCUMENTS: list[type[Document]] = [
    AccessLogEntry,
    CustomerDataKey,
    ProcessedMessage,
    CustomerHistoryEntry,
    StoredEvent,
    PositionCounter,
    Checkpoint,
    ProjectionBuild,
    ProjectionActivity,
    CustomerView,
    ContactKeyHolder,
    IdempotencyOutcome,
    CustomerSnapshot,
]
