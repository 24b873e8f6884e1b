"""The events of the Customer aggregate: small, immutable, versioned for upcasting."""

from datetime import datetime
from typing import Any, ClassVar

from domain.customer.consents import ConsentEntry
from domain.customer.notes import Note
from domain.customer.preferences import Preferences
from domain.customer.profile import Address, Billing, CustomerSegment, CustomerType
from domain.customer.purchases import CustomerSummary, OrderRole, PaymentStatus, PurchaseHistory
from domain.events import DomainEvent


class CustomerEvent(DomainEvent):
    """Base of every customer event. `schema_version` is bumped when the shape changes."""


PERSONAL_PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "address", "billing", "tags", "attributes")


class CustomerRegistered(CustomerEvent):
    routing_key: ClassVar[str] = "customer.registered"
    personal_data: ClassVar[tuple[str, ...]] = PERSONAL_PROFILE_FIELDS

    business_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    billing: Billing | None = None
    type: CustomerType
    segment: CustomerSegment
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}

    def changed_fields(self) -> tuple[str, ...]:
        return tuple(
            field
            for field in type(self).model_fields
            if field not in ("occurred_at", "business_id") and getattr(self, field) not in (None, (), {})
        )


class CustomerProfileUpdated(CustomerEvent):
    routing_key: ClassVar[str] = "customer.updated"
    personal_data: ClassVar[tuple[str, ...]] = tuple(f"changes.{field}" for field in PERSONAL_PROFILE_FIELDS)

    # Only the fields that changed, with their new values (null clears a field).
    changes: dict[str, Any]

    def changed_fields(self) -> tuple[str, ...]:
        return tuple(self.changes)


class CustomerTypeChanged(CustomerEvent):
    """The customer's type moved by itself, by the rules of `domain.customer.type_transitions`
    (a type asked for explicitly is a `customer.updated`)."""

    routing_key: ClassVar[str] = "customer.type_changed"

    from_type: CustomerType
    to_type: CustomerType
    # contact_removed | contact_added | first_purchase | completed_by_staff
    reason: str

    def changed_fields(self) -> tuple[str, ...]:
        return ("type",)


class CustomerDeleted(CustomerEvent):
    routing_key: ClassVar[str] = "customer.deleted"

    def changed_fields(self) -> tuple[str, ...]:
        return ("status", "deleted_at")


class CustomerRestored(CustomerEvent):
    routing_key: ClassVar[str] = "customer.restored"

    def changed_fields(self) -> tuple[str, ...]:
        return ("status", "deleted_at")


class NoteAdded(CustomerEvent):
    routing_key: ClassVar[str] = "customer.note_added"
    personal_data: ClassVar[tuple[str, ...]] = ("note.content",)

    note: Note

    def changed_fields(self) -> tuple[str, ...]:
        return ("notes",)


class PreferencesUpdated(CustomerEvent):
    routing_key: ClassVar[str] = "customer.preferences_updated"

    preferences: Preferences
    changed: tuple[str, ...]

    def changed_fields(self) -> tuple[str, ...]:
        return tuple(f"preferences.{name}" for name in self.changed)


class ConsentRecorded(CustomerEvent):
    """A consent granted or withdrawn.

    Version 2 carries the consent's fields at the top level (consumers route and filter on
    `purpose` without unpacking an object) and no longer repeats the time, which was always
    `occurred_at`. Version 1 was `{"occurred_at", "entry": {"purpose", "granted", "at",
    "source", "legal_basis"}}`; `upcast_v1_v2` turns it into this shape on read."""

    schema_version: ClassVar[int] = 2
    routing_key: ClassVar[str] = "customer.consent_recorded"

    purpose: str
    granted: bool
    source: str | None = None
    legal_basis: str | None = None

    @staticmethod
    def upcast_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
        entry = dict(payload["entry"])
        entry.pop("at", None)
        return {"occurred_at": payload["occurred_at"], **entry}

    @property
    def entry(self) -> ConsentEntry:
        return ConsentEntry(
            purpose=self.purpose,
            granted=self.granted,
            at=self.occurred_at,
            source=self.source,
            legal_basis=self.legal_basis,
        )

    def changed_fields(self) -> tuple[str, ...]:
        return (f"consents.{self.purpose}",)


class CustomerMerged(CustomerEvent):
    """On the target: it took the source's missing contact data, its consents and purchases,
    and shows the source's notes from now on.

    Version 2 says whose notes the target now shows (`note_counts`: the source and those
    merged into it, with how many notes each was given); the notes stay where they were
    added. Version 1 carried copies of the source's notes (`notes`); `upcast_v1_v2` counts
    them as the source's own."""

    schema_version: ClassVar[int] = 2
    routing_key: ClassVar[str] = "customer.merged"
    personal_data: ClassVar[tuple[str, ...]] = tuple(f"taken.{field}" for field in PERSONAL_PROFILE_FIELDS)

    source_customer_id: str
    taken: dict[str, Any]
    note_counts: dict[str, int] = {}
    consents: tuple[ConsentEntry, ...] = ()
    # The source's orders and payments, which the target now holds (metrics are recomputed).
    purchases: PurchaseHistory = PurchaseHistory()
    # The customers merged into the source before: with the source, their purchase records
    # (kept under their own ids) make up part of the target's history now.
    history_owners: tuple[str, ...] = ()

    @staticmethod
    def upcast_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
        payload = dict(payload)
        notes = payload.pop("notes", None) or []
        count = {payload["source_customer_id"]: len(notes)} if notes else {}
        return {**payload, "note_counts": count}

    def changed_fields(self) -> tuple[str, ...]:
        moved_purchases = self.purchases.orders or self.purchases.payments
        return (
            *self.taken,
            *(("notes",) if any(self.note_counts.values()) else ()),
            *(("consents",) if self.consents else ()),
            *(("purchases", "metrics") if moved_purchases else ()),
        )


class CustomerMergedInto(CustomerEvent):
    """On the source: it now lives on as the target."""

    routing_key: ClassVar[str] = "customer.merged_into"

    target_customer_id: str

    def changed_fields(self) -> tuple[str, ...]:
        return ("status", "merged_into")


class CustomerErased(CustomerEvent):
    """GDPR erasure: the personal data is gone for good; ids and money facts stay."""

    routing_key: ClassVar[str] = "customer.erased"

    def changed_fields(self) -> tuple[str, ...]:
        return ("status", *PERSONAL_PROFILE_FIELDS, "notes")


class OrderLinked(CustomerEvent):
    """The customer took part in an order (booker, attendee or both); published as
    `customer.order_linked` for the order service, which stores the snapshot."""

    routing_key: ClassVar[str] = "customer.order_linked"

    order_id: str
    roles: tuple[OrderRole, ...]
    purchaser: bool
    # True when this is the customer's first order with this business.
    first_time: bool
    placed_at: datetime
    total_amount_minor: int
    currency: str
    items_count: int = 0
    customer_snapshot: CustomerSummary

    personal_data: ClassVar[tuple[str, ...]] = tuple(
        f"customer_snapshot.{field}" for field in ("first_name", "last_name", "email", "phone")
    )

    def changed_fields(self) -> tuple[str, ...]:
        return ("purchases", "metrics")


class OrderCompleted(CustomerEvent):
    """An order the customer took part in completed; a purchase if the customer is its purchaser."""

    routing_key: ClassVar[str] = "customer.order_completed"

    order_id: str
    completed_at: datetime
    total_amount_minor: int
    currency: str
    items_count: int = 0

    def changed_fields(self) -> tuple[str, ...]:
        return ("purchases", "metrics")


class OrderCancelled(CustomerEvent):
    routing_key: ClassVar[str] = "customer.order_cancelled"

    order_id: str
    cancelled_at: datetime
    reason: str | None = None

    def changed_fields(self) -> tuple[str, ...]:
        return ("purchases", "metrics")


class PaymentLinked(CustomerEvent):
    """The customer paid (or tried to pay): it goes into the payment history."""

    routing_key: ClassVar[str] = "customer.payment_linked"

    payment_id: str
    order_id: str | None = None
    status: PaymentStatus
    amount_minor: int
    currency: str
    method: str | None = None
    at: datetime
    failure_reason: str | None = None

    def changed_fields(self) -> tuple[str, ...]:
        return ("purchases",)


class PaymentRefunded(CustomerEvent):
    """Part or all of a payment of the customer went back: net spend and lifetime value drop."""

    routing_key: ClassVar[str] = "customer.payment_refunded"

    payment_id: str
    refund_id: str
    amount_minor: int
    currency: str
    refunded_at: datetime

    def changed_fields(self) -> tuple[str, ...]:
        return ("purchases", "metrics")


CUSTOMER_EVENT_TYPES: dict[str, type[CustomerEvent]] = {
    event_type.__name__: event_type
    for event_type in (
        CustomerRegistered,
        CustomerProfileUpdated,
        CustomerTypeChanged,
        CustomerDeleted,
        CustomerRestored,
        NoteAdded,
        PreferencesUpdated,
        ConsentRecorded,
        CustomerMerged,
        CustomerMergedInto,
        CustomerErased,
        OrderLinked,
        OrderCompleted,
        OrderCancelled,
        PaymentLinked,
        PaymentRefunded,
    )
}
