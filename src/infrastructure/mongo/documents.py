"""Beanie documents: the persisted shapes, and the indexes each collection needs."""

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class StoredEvent(Document):
    """One event of the event store. The `_id` is the event id; `position` is its place in
    its business's log."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
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
        # Both start with the shard key (`business_id`), as unique indexes of a sharded
        # collection must.
        indexes = [
            # Optimistic concurrency: two writers cannot both append version N of a stream.
            IndexModel(
                [("business_id", ASCENDING), ("stream_id", ASCENDING), ("version", ASCENDING)],
                unique=True,
                name="stream_version",
            ),
            # The business's log, which the relay and rebuilds follow.
            IndexModel([("business_id", ASCENDING), ("position", ASCENDING)], unique=True, name="business_position"),
        ]


class BusinessLog(Document):
    """The head of a business's log: bumped in every append transaction of the business, so
    its positions are gap-free and follow commit order. `log_partition` says which relay
    lease covers it."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    head: int = 0
    log_partition: int
    updated_at: datetime

    class Settings:
        name = "business_logs"
        indexes = [
            # The relay's sweep: the businesses of a partition that appended lately.
            IndexModel([("log_partition", ASCENDING), ("updated_at", ASCENDING)], name="partition_recent"),
        ]


class RelayProgress(Document):
    """How far the relay published a business's log, and under which lease epoch of its
    log partition (a relay holding an older epoch can no longer write here)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    published: int = 0
    log_partition: int
    epoch: int
    updated_at: datetime

    class Settings:
        name = "relay_progress"
        indexes = [IndexModel([("log_partition", ASCENDING)], name="log_partition")]


class Lease(Document):
    """One holder per (group, partition): `_id` is `<group>|<partition>`."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    owner: str
    epoch: int
    expires_at: datetime

    class Settings:
        name = "leases"


class Member(Document):
    """A live replica of a worker (`_id` is `<group>|<member>`), until `expires_at`."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    group: str
    member: str
    expires_at: datetime

    class Settings:
        name = "members"
        indexes = [IndexModel([("group", ASCENDING), ("expires_at", ASCENDING)], name="group_alive")]


class Checkpoint(Document):
    """How far each partition of a projection has applied a business's log.
    `_id` is `<projection>|<business>`; `partitions` maps a partition to its position."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    projection: str
    business_id: str
    partitions: dict[str, int] = {}
    updated_at: datetime | None = None

    class Settings:
        name = "checkpoints"
        indexes = [IndexModel([("projection", ASCENDING), ("business_id", ASCENDING)], name="projection_business")]


class ProjectionState(Document):
    """A projection's read model as a whole (`_id` is the projection): the version of the
    code that built it (see `crm projections status`)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    projection_version: int | None = None
    rebuilt_at: datetime | None = None

    class Settings:
        name = "projections"


class ReadModelGeneration(Document):
    """Which generation of a projection's read model readers read and projectors write
    (`_id`: the projection); see `read_model_generations`."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    read: int
    write: list[int]
    # Old generations to drop once nobody can write them: `{generation, at}` (see `retired_generations`).
    retired: list[dict[str, Any]] = []

    class Settings:
        name = "read_models"


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


_SORTS = ("created_at", "last_name", "last_purchase_at", "total_spent")
_SEARCH_SORTS = ("created_at", "last_name")


class CustomerView(Document):
    """The customer-details read model: the aggregate's state as of `version`, its facets
    and its sort keys (see `customer_query_fields`).

    Every index is equalities first, then the one range a page walks (its sort key), as
    both MongoDB (sort from the index) and SecantusDB (a bounded range) serve: see
    `customer_listing`. Facets are few per customer, so each sort has a facet index."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    version: int
    state: dict[str, Any]
    status: str
    facets: list[str]
    sort: dict[str, str]
    # The segments it belongs to, as counted (their `seg:<id>` facets are in `facets`).
    segments: list[str] = []

    class Settings:
        name = "customer_details"
        indexes = [
            # The retention job's question: who has been deleted for longest.
            IndexModel([("status", ASCENDING), ("state.deleted_at", ASCENDING)], name="deleted_since"),
            *(
                IndexModel(
                    [("business_id", ASCENDING), ("status", ASCENDING), (f"sort.{field}", ASCENDING)],
                    name=f"list_by_{field}",
                )
                for field in _SORTS
            ),
            *(
                IndexModel(
                    [
                        ("business_id", ASCENDING),
                        ("status", ASCENDING),
                        ("facets", ASCENDING),
                        (f"sort.{field}", ASCENDING),
                    ],
                    name=f"facets_by_{field}",
                )
                for field in _SORTS
            ),
        ]


class CustomerSearchEntry(Document):
    """A customer's search terms (every prefix of its words: ~40 each), beside its view in
    `customer_details` (`_id` is the customer id). Kept apart because there are many: this
    document is rewritten only when a name, an email, a phone or the status changes, not
    at every event; and a search is read in two orders only, newest first or by name."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    status: str
    terms: list[str]
    words: list[str]
    sort: dict[str, str]
    # The version of the view it was made from: a write from an older one never lands.
    view_version: int = 0

    class Settings:
        name = "customer_search"
        indexes = [
            IndexModel(
                [("business_id", ASCENDING), ("status", ASCENDING), ("terms", ASCENDING), (f"sort.{field}", ASCENDING)],
                name=f"terms_by_{field}",
            )
            for field in _SEARCH_SORTS
        ]


class SegmentDefinition(Document):
    """A business's segment, beside its customers in the customer-details read model (which
    keeps each customer's membership in `customer_details.segments`)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    name: str
    filter: dict[str, Any]
    created_at: datetime
    version: int
    deleted: bool = False
    # Every customer checked against it (the background count after its definition is done).
    counted: bool = False
    # How far in the business's log the background count has gone.
    counted_up_to: int = 0

    class Settings:
        name = "segments"
        indexes = [
            IndexModel([("business_id", ASCENDING), ("deleted", ASCENDING)], name="business_live"),
            IndexModel([("counted", ASCENDING), ("deleted", ASCENDING)], name="to_count"),
        ]


class SegmentCount(Document):
    """Part of a segment's count: `_id` is `<segment>|<shard>`. Writers of different
    customers touch different shards (by customer id), so they rarely wait on one another;
    the count is the sum of a segment's shards, updated in the same transaction as the
    memberships they count."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    segment_id: str
    business_id: str
    members: int = 0

    class Settings:
        name = "segment_counts"
        indexes = [IndexModel([("segment_id", ASCENDING)], name="segment")]


class InsightsMember(Document):
    """A customer as the insights projection last saw it (its own copy of the state: that
    projection is rebuilt and replayed on its own)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    version: int
    state: dict[str, Any]

    class Settings:
        name = "insights_members"


class PurchaseRecordFields(BaseModel):
    """The fields of one order's or payment's document, in each of the three collections
    that keep purchase histories (first among the bases: Beanie then keeps them)."""

    id: str = Field(alias="_id")
    business_id: str
    customer_id: str
    kind: str  # "order" or "payment"
    key: str
    order_id: str | None = None
    record: dict[str, Any]


class InsightsPurchase(PurchaseRecordFields, Document):
    """One order or payment of a customer's purchase history as the insights projection
    keeps it, outside its member (so a member stays small whatever the history): the same
    documents as `customer_purchases`, in a collection of the projection's own. It only
    ever reads a customer's whole history, hence its one index."""

    payer_only: bool = False

    class Settings:
        name = "insights_purchases"
        indexes = [IndexModel([("business_id", ASCENDING), ("customer_id", ASCENDING)], name="customer")]


class InsightsCounts(Document):
    """A business's insight facts, summed (`_id` is `<business>|<shard>`: writers of
    different customers update different shards)."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    facts: dict[str, Any] = {}

    class Settings:
        name = "insights"
        indexes = [IndexModel([("business_id", ASCENDING)], name="business")]


class ListFences(Document):
    """Where a list's pages may cut: sort keys that split one index range of a business into
    ranges of about `BUCKET` customers each, with the count last seen in each (see
    `customer_listing`). `_id` is `<business>|<status>|<key>|<sort>`. Only ever an
    optimization: any set of fences gives the same pages, and readers refresh them."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    fences: list[str]
    counts: list[int]
    updated_at: datetime

    class Settings:
        name = "list_fences"


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
    """A customer's state after its last event, written in the transaction that appends it."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    version: int
    shape: str
    state: dict[str, Any]

    class Settings:
        name = "customer_snapshots"


class CustomerNote(Document):
    """Note `number` of a customer (kept by the customer-details projection, outside the
    customer's view, so a customer may hold any number). `_id` is `<customer id>/<number>`:
    writing a note twice changes nothing. A page reads one bounded range of numbers per
    customer whose notes it shows, which both MongoDB and SecantusDB serve from the index."""

    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    customer_id: str
    number: int
    note: dict[str, Any]

    class Settings:
        name = "customer_notes"
        indexes = [
            IndexModel(
                [("business_id", ASCENDING), ("customer_id", ASCENDING), ("number", ASCENDING)],
                name="customer_numbers",
                unique=True,
            ),
        ]


class CustomerPurchase(PurchaseRecordFields, Document):
    """One order or payment of a customer's purchase history (kept by the customer-details
    projection, outside the customer's view, so the view stays small whatever the history).
    `_id` is `<customer id>/order/<order id>` or `<customer id>/payment/<payment id>`.

    `key` orders a customer's records newest first: the UTC time (placed, or paid), then
    the order's or payment's id, in one string, so a page is one range of one index.
    `payer_only` marks a payment of an order the customer is not credited with."""

    payer_only: bool = False

    class Settings:
        name = "customer_purchases"
        indexes = [
            IndexModel(
                [("business_id", ASCENDING), ("customer_id", ASCENDING), ("kind", ASCENDING), ("key", DESCENDING)],
                name="customer_kind_key",
            ),
            IndexModel(
                [("business_id", ASCENDING), ("customer_id", ASCENDING), ("order_id", ASCENDING)],
                name="customer_order",
            ),
        ]


class PurchaseRecord(PurchaseRecordFields, Document):
    """One order or payment of a customer's purchase history as the write side keeps it,
    outside its snapshot, written in the transaction that appends the customer's events (so
    a customer may hold any number). The documents of `customer_purchases` (the read side
    keeps its own), without `payer_only`; `_id` is `<customer id>/<kind>/<id>`."""

    class Settings:
        name = "customer_purchase_records"
        indexes = [IndexModel([("business_id", ASCENDING), ("customer_id", ASCENDING)], name="customer")]


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
            # Newest first by (at, _id): the id breaks ties, so that GET /access-log pages by
            # a range of the index without sorting (an index on `at` alone left it a sort).
            IndexModel(
                [("business_id", ASCENDING), ("customer_ids", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                name="business_customer_newest_by_id",
            ),
            IndexModel(
                [("business_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], name="business_newest_by_id"
            ),
            IndexModel(
                [("business_id", ASCENDING), ("actor", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)],
                name="business_actor_newest_by_id",
            ),
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
    BusinessLog,
    RelayProgress,
    Lease,
    Member,
    Checkpoint,
    ProjectionState,
    ReadModelGeneration,
    ProjectionBuild,
    ProjectionActivity,
    CustomerView,
    CustomerSearchEntry,
    CustomerNote,
    CustomerPurchase,
    SegmentDefinition,
    SegmentCount,
    InsightsMember,
    InsightsCounts,
    InsightsPurchase,
    ListFences,
    ContactKeyHolder,
    IdempotencyOutcome,
    CustomerSnapshot,
    PurchaseRecord,
]
