"""What one command or inbound message writes, atomically: events of one or more
streams, the contact keys it claims or releases, and (for a request with an
Idempotency-Key) its outcome, or (for a message of another service) its id."""

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from domain.customer.purchases import OrderRecord, PaymentRecord, PurchaseHistory
from domain.customer.state import CustomerState, records_touched
from domain.events import DomainEvent


class PurchaseRecordChanges(BaseModel):
    """What a commit writes of a customer's purchase history, which is kept outside its
    snapshot, a record per order and per payment: the records its events changed."""

    model_config = ConfigDict(frozen=True)

    orders: tuple[OrderRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()

    @classmethod
    def of(
        cls, state: CustomerState, events: Sequence[DomainEvent], unwritten: PurchaseHistory | None = None
    ) -> "PurchaseRecordChanges | None":
        """`unwritten`: the history the customer was loaded with, none of which was ever
        written as records (code before them kept it in the snapshot): all of it goes now.

        A merged-away customer keeps its records: its target's history takes them in by the
        source's id (`CustomerState.history_owners`)."""
        history = state.purchases
        if unwritten is not None:
            # Merging facts again changes nothing: the loaded history and what the events
            # added, even when a merge emptied the state's.
            whole = unwritten.merged_with(history)
            return cls(orders=whole.orders, payments=whole.payments) if whole.orders or whole.payments else None
        order_ids, payment_ids = records_touched(events)
        if not order_ids and not payment_ids:
            return None
        return cls(
            orders=tuple(order for order in history.orders if order.order_id in order_ids),
            payments=tuple(payment for payment in history.payments if payment.payment_id in payment_ids),
        )


class StreamChanges(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int
    events: tuple[DomainEvent, ...]
    # The aggregate's state after the events, stored with them (a snapshot that is never
    # behind its stream), for aggregates that are loaded from one (customers).
    snapshot: CustomerState | None = None
    # A customer's purchase records that the events changed (kept beside its snapshot).
    purchase_records: PurchaseRecordChanges | None = None

    @classmethod
    def of(
        cls,
        aggregate: "Aggregate",
        snapshot: CustomerState | None = None,
        purchase_records: PurchaseRecordChanges | None = None,
    ) -> "StreamChanges":
        """The events an aggregate triggered since it was loaded, at the version it was loaded at."""
        return cls(
            stream_id=aggregate.id,
            expected_version=aggregate.version - len(aggregate.pending_events),
            events=tuple(aggregate.pending_events),
            snapshot=snapshot,
            purchase_records=purchase_records,
        )


class Aggregate(Protocol):
    id: str
    version: int

    @property
    def pending_events(self) -> list[Any]: ...


class ContactKey(BaseModel):
    """An email (case-folded) or a phone (E.164) that one active customer of a business holds."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    kind: str
    value: str
    customer_id: str


class IdempotencyRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    customer_ids: tuple[str, ...] = ()
    request_hash: str
    outcome: dict[str, Any]


class StoredOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_hash: str
    outcome: dict[str, Any]
    position: int | None


class Commit(BaseModel):
    """Everything in one commit belongs to one business: its log orders the commit's events."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    streams: tuple[StreamChanges, ...]
    # Released before claimed, so a key can move from one customer to another (a merge).
    releases: tuple[ContactKey, ...] = ()
    claims: tuple[ContactKey, ...] = ()
    idempotency: IdempotencyRecord | None = None
    # Customers erased by this commit: their data key is destroyed in the same transaction,
    # and so is every plaintext copy the command side keeps (snapshots, stored outcomes).
    erasures: tuple[str, ...] = ()
    # The `event_id` of an inbound message: committed with its effects, so that a
    # redelivery finds it and changes nothing.
    processed_message_id: str | None = None
