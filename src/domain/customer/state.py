"""What a customer is at one version, and what each event makes of it.

`state_after` is the one place where a customer's state changes: the aggregate applies
every event through it, so replaying a stream rebuilds exactly the same state. The
aggregate (`domain.customer.aggregate`) decides which events happen; this module only
says what they do.

Purchase events change the purchase history by merging facts (see
`domain.customer.purchases`), and the metrics are recomputed from the history each time.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.customer.consents import ConsentEntry, current_consents
from domain.customer.contact import email_key
from domain.customer.events import (
    ConsentRecorded,
    CustomerDeleted,
    CustomerErased,
    CustomerEvent,
    CustomerMerged,
    CustomerMergedInto,
    CustomerProfileUpdated,
    CustomerRegistered,
    CustomerRestored,
    CustomerTypeChanged,
    NoteAdded,
    OrderCancelled,
    OrderCompleted,
    OrderLinked,
    PaymentLinked,
    PaymentRefunded,
    PreferencesUpdated,
)
from domain.customer.metrics import PurchaseMetrics, purchase_metrics
from domain.customer.preferences import Preferences
from domain.customer.profile import PROFILE_FIELDS, Address, Billing, CustomerSegment, CustomerStatus, CustomerType
from domain.customer.purchases import (
    CustomerSummary,
    OrderRecord,
    OrderStatus,
    PaymentRecord,
    PurchaseHistory,
    RefundRecord,
)
from domain.events import DomainEvent


class CustomerState(BaseModel):
    """Everything the aggregate knows; also the shape the read model stores."""

    model_config = ConfigDict(frozen=True)

    id: str
    business_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    # Personal data, like the address: sealed, exported, erased.
    billing: Billing | None = None
    type: CustomerType
    segment: CustomerSegment
    status: CustomerStatus = CustomerStatus.ACTIVE
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}
    preferences: Preferences = Preferences()
    consent_log: tuple[ConsentEntry, ...] = ()
    # How many notes were added to each customer whose notes this one shows: itself, and
    # every customer merged into it. The notes themselves stay outside the state (see
    # domain.customer.notes): note n of customer c is the nth NoteAdded of c's stream.
    note_counts: dict[str, int] = {}
    # Orders and payments; `metrics` is computed from it (domain.customer.metrics).
    purchases: PurchaseHistory = PurchaseHistory()
    # The customers merged into this one: a store that keeps a record per order and payment
    # under the customer it was recorded for finds this history under them and this one.
    history_owners: tuple[str, ...] = ()
    # How many orders and payments `purchases` holds: known even when a state is loaded
    # without its history.
    purchase_records: int = 0
    metrics: PurchaseMetrics = PurchaseMetrics()
    merged_into: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def consents(self) -> dict[str, ConsentEntry]:
        return current_consents(self.consent_log)

    @property
    def notes_count(self) -> int:
        return sum(self.note_counts.values())

    @property
    def history_open(self) -> bool:
        """Whether purchase facts may still be recorded (not merged away, not erased): they
        happened, so an active or a deleted customer takes them."""
        return self.status in (CustomerStatus.ACTIVE, CustomerStatus.DELETED)

    def contact_keys(self) -> frozenset[tuple[str, str]]:
        """The (kind, normalized value) pairs this customer holds unique in its business.

        Only an active customer holds them: deleting, merging or erasing releases them."""
        if self.status != CustomerStatus.ACTIVE:
            return frozenset()
        keys = set()
        if self.email:
            keys.add(("email", email_key(self.email)))
        if self.phone:
            keys.add(("phone", self.phone))
        return frozenset(keys)

    def profile(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in PROFILE_FIELDS}

    def summary(self) -> CustomerSummary:
        return CustomerSummary(
            id=self.id,
            business_id=self.business_id,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            type=self.type,
            status=self.status,
        )


def state_after(state: CustomerState | None, event: CustomerEvent, customer_id: str, version: int) -> CustomerState:
    """The state once `event` is applied, as `version`; `state` is None before the first event."""
    if isinstance(event, CustomerRegistered):
        return CustomerState(
            id=customer_id,
            **event.model_dump(exclude={"occurred_at"}),
            version=version,
            created_at=event.occurred_at,
            updated_at=event.occurred_at,
        )
    if state is None:
        raise LookupError(f"customer {customer_id} has no events")
    match event:
        case CustomerProfileUpdated():
            update = _validated(state, event.changes)
        case CustomerTypeChanged():
            update = {"type": event.to_type}
        case CustomerDeleted():
            update = {"status": CustomerStatus.DELETED, "deleted_at": event.occurred_at}
        case CustomerRestored():
            update = {"status": CustomerStatus.ACTIVE, "deleted_at": None}
        case NoteAdded():
            update = {"note_counts": {**state.note_counts, state.id: state.note_counts.get(state.id, 0) + 1}}
        case PreferencesUpdated():
            update = {"preferences": event.preferences}
        case ConsentRecorded():
            update = {"consent_log": (*state.consent_log, event.entry)}
        case CustomerMerged():
            purchases = state.purchases.merged_with(event.purchases)
            update = {
                **_validated(state, event.taken),
                "note_counts": {**state.note_counts, **event.note_counts},
                "consent_log": tuple(sorted((*state.consent_log, *event.consents), key=lambda entry: entry.at)),
                "purchases": purchases,
                "purchase_records": _records_in(purchases),
                "history_owners": tuple(
                    dict.fromkeys((*state.history_owners, event.source_customer_id, *event.history_owners))
                ),
                "metrics": purchase_metrics(purchases),
            }
        case CustomerErased():
            update = {**_personal_data_dropped(state), "status": CustomerStatus.ERASED}
        case CustomerMergedInto():
            # Its purchase history moves to the target (see CustomerMerged).
            update = {
                "status": CustomerStatus.MERGED,
                "merged_into": event.target_customer_id,
                "purchases": PurchaseHistory(),
                "purchase_records": 0,
                "history_owners": (),
                "metrics": PurchaseMetrics(),
            }
        case OrderLinked() | OrderCompleted() | OrderCancelled() | PaymentLinked() | PaymentRefunded():
            purchases = purchases_after(state.purchases, event)
            update = {
                "purchases": purchases,
                "purchase_records": _records_in(purchases),
                "metrics": purchase_metrics(purchases),
            }
        case _:
            raise TypeError(f"Customer cannot apply {type(event).__name__}")
    return state.model_copy(update={**update, "version": version, "updated_at": event.occurred_at})


def reads_purchases(event: DomainEvent) -> bool:
    """Whether applying `event` needs the whole purchase history (it changes it, and the
    metrics are computed from all of it): a state kept without its history must get it back
    first."""
    return isinstance(
        event,
        OrderLinked
        | OrderCompleted
        | OrderCancelled
        | PaymentLinked
        | PaymentRefunded
        | CustomerMerged
        | CustomerMergedInto,
    )


def records_touched(events: Iterable[DomainEvent]) -> tuple[frozenset[str], frozenset[str]]:
    """The orders and the payments (their ids) whose facts `events` record. A merge records
    none: the source's records stay its own, and the target's history takes them in
    (`history_owners`)."""
    orders: set[str] = set()
    payments: set[str] = set()
    for event in events:
        match event:
            case OrderLinked() | OrderCompleted() | OrderCancelled():
                orders.add(event.order_id)
            case PaymentLinked() | PaymentRefunded():
                payments.add(event.payment_id)
    return frozenset(orders), frozenset(payments)


def purchases_after(
    history: PurchaseHistory, event: OrderLinked | OrderCompleted | OrderCancelled | PaymentLinked | PaymentRefunded
) -> PurchaseHistory:
    """The purchase history once an order or payment event is applied."""
    match event:
        case OrderLinked():
            return history.with_orders(
                [
                    OrderRecord(
                        order_id=event.order_id,
                        roles=event.roles,
                        purchaser=event.purchaser,
                        placed_at=event.placed_at,
                        total_amount_minor=event.total_amount_minor,
                        currency=event.currency,
                        items_count=event.items_count,
                    )
                ]
            )
        case OrderCompleted():
            known = _known_order(history, event.order_id)
            return history.with_orders(
                [
                    # A completed order was not cancelled, whatever arrived before.
                    known.model_copy(
                        update={
                            "status": OrderStatus.COMPLETED,
                            "completed_at": event.completed_at,
                            "cancelled_at": None,
                            "cancel_reason": None,
                            "total_amount_minor": event.total_amount_minor,
                            "currency": event.currency,
                            "items_count": event.items_count,
                        }
                    )
                ]
            )
        case OrderCancelled():
            known = _known_order(history, event.order_id)
            return history.with_orders(
                [
                    known.model_copy(
                        update={
                            "status": OrderStatus.CANCELLED,
                            "cancelled_at": event.cancelled_at,
                            "cancel_reason": event.reason,
                        }
                    )
                ]
            )
        case PaymentLinked():
            return history.with_payments(
                [
                    PaymentRecord(
                        payment_id=event.payment_id,
                        order_id=event.order_id,
                        status=event.status,
                        amount_minor=event.amount_minor,
                        currency=event.currency,
                        method=event.method,
                        at=event.at,
                        failure_reason=event.failure_reason,
                    )
                ]
            )
        case PaymentRefunded():
            known_payment = history.payment(event.payment_id)
            if known_payment is None:
                raise ValueError(f"refund of unknown payment {event.payment_id}")
            refund = RefundRecord(
                refund_id=event.refund_id,
                amount_minor=event.amount_minor,
                currency=event.currency,
                refunded_at=event.refunded_at,
            )
            return history.with_payments([known_payment.model_copy(update={"refunds": (refund,)})])


def without_personal_data(state: CustomerState) -> CustomerState:
    """The state with its personal data gone, as an erasure leaves it (status aside): what a
    look into the past of an erased customer shows."""
    return state.model_copy(update=_personal_data_dropped(state))


def _personal_data_dropped(state: CustomerState) -> dict[str, Any]:
    return {
        **{field: None for field in ("first_name", "last_name", "email", "phone", "address", "billing")},
        "tags": (),
        "attributes": {},
    }


def _records_in(history: PurchaseHistory) -> int:
    return len(history.orders) + len(history.payments)


def _known_order(history: PurchaseHistory, order_id: str) -> OrderRecord:
    known = history.order(order_id)
    if known is None:
        raise ValueError(f"order {order_id} was never linked")
    return known


def _validated(state: CustomerState, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for `changes` (an address dict becomes an Address, and so on)."""
    probe = CustomerState.model_validate({**state.model_dump(), **changes})
    return {field: getattr(probe, field) for field in changes}
