"""The Customer aggregate: its commands.

Commands are methods that check the invariants and then trigger an event; the state
changes only in `apply` (through `domain.customer.state.state_after`), so replaying the
stream rebuilds exactly the same customer. The domain neither reads the clock nor
invents ids: both are passed in.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.customer.consents import checked_purpose
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
from domain.customer.notes import NOTE_MAX_LENGTH, Note, NoteType
from domain.customer.preferences import Preferences
from domain.customer.profile import MERGE_TAKES, Address, Billing, CustomerSegment, CustomerStatus, CustomerType
from domain.customer.profile_rules import normalized_profile
from domain.customer.purchases import OrderRole, OrderStatus, PaymentStatus
from domain.customer.size_budget import (
    CustomerTooLarge,
    byte_size,
    history_mergeable,
    payment_within_budget,
    within_budget,
)
from domain.customer.state import CustomerState, reads_purchases, state_after
from domain.customer.type_transitions import type_move
from domain.errors import CustomerNotActive, FieldError, HasOpenOrders, InvalidCustomerData, InvalidMerge


class ProfileInput(BaseModel):
    """Profile data as a command gives it, before normalization."""

    model_config = ConfigDict(frozen=True)

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    billing: Billing | None = None
    type: CustomerType | None = None
    segment: CustomerSegment | None = None
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}


class Customer:
    # Bump when `state_after` changes what an event does to the state: it invalidates snapshots.
    # 2: metrics.total_items. 3: notes leave the state (note_counts). 4: the purchase
    # history leaves the snapshot (kept a record per order and payment).
    SNAPSHOT_VERSION = 4

    def __init__(self, customer_id: str):
        self.id = customer_id
        self.version = 0
        self._state: CustomerState | None = None
        # The byte size of `_state`, measured when a command first needs it.
        self._size: int | None = None
        # False when loaded without its purchase history (kept outside the state's
        # snapshot): then no purchase fact or merge may be decided or applied.
        self.history_at_hand = True
        self.pending_events: list[CustomerEvent] = []

    # public commands

    @classmethod
    def register(
        cls, *, customer_id: str, business_id: str, profile: ProfileInput, default_region: str, now: datetime
    ) -> "Customer":
        values = normalized_profile(profile.model_dump(), current_type=None, default_region=default_region)
        customer = cls(customer_id)
        customer._trigger(CustomerRegistered(occurred_at=now, business_id=business_id, **values))
        return customer

    @classmethod
    def register_from_order(
        cls, *, customer_id: str, business_id: str, contact: Mapping[str, str], default_region: str, now: datetime
    ) -> "Customer":
        """A person an order named and no customer matched: `unregistered`, with the order's
        data (`anonymous` when it gave neither email nor phone, as the type rules want)."""
        has_contact = bool(contact.get("email") or contact.get("phone"))
        profile = ProfileInput.model_validate({**contact, "type": CustomerType.UNREGISTERED if has_contact else None})
        return cls.register(
            customer_id=customer_id, business_id=business_id, profile=profile, default_region=default_region, now=now
        )

    def update_profile(self, changes: Mapping[str, Any], default_region: str, now: datetime) -> None:
        """Partial update: the given fields change (None clears one), the others stay.

        `attributes` is merged as in JSON Merge Patch: a key set to None is removed."""
        changes = dict(changes)
        if isinstance(changes.get("attributes"), Mapping):
            merged = {**self.state.attributes, **changes["attributes"]}
            changes["attributes"] = {key: value for key, value in merged.items() if value is not None}
        # The current type is not a requested one: the type rules may move it.
        current = {field: value for field, value in self.state.profile().items() if field != "type"}
        self._change_profile({**current, **changes}, default_region, now, by_staff=_completes_contact(changes))

    def replace_profile(self, profile: ProfileInput, default_region: str, now: datetime) -> None:
        """Full replace: every editable field takes the given value or its default."""
        values = profile.model_dump()
        self._change_profile(values, default_region, now, by_staff=_completes_contact(values))

    def delete(self, now: datetime) -> None:
        self._require_active("deleted")
        if self.state.metrics.open_orders:
            raise HasOpenOrders(self.id, self.state.metrics.open_orders)
        self._trigger(CustomerDeleted(occurred_at=now))

    def restore(self, now: datetime) -> None:
        if self.state.status != CustomerStatus.DELETED:
            raise CustomerNotActive(self.id, self.state.status, "restored (only a deleted customer can)")
        self._trigger(CustomerRestored(occurred_at=now))
        self._settle_type(now)

    def add_note(self, note_id: str, note_type: NoteType, content: str, author: str, now: datetime) -> Note:
        self._require_active("given notes")
        text = content.strip()
        if not text or len(text) > NOTE_MAX_LENGTH:
            raise InvalidCustomerData([FieldError("content", f"must have 1 to {NOTE_MAX_LENGTH} characters")])
        note = Note(id=note_id, type=note_type, content=text, author=author, created_at=now)
        self._trigger(NoteAdded(occurred_at=now, note=note))
        return note

    def update_preferences(self, changes: Mapping[str, Any], now: datetime) -> None:
        self._require_active("updated")
        current = self.state.preferences.model_dump()
        merged = {**current, **changes}
        if isinstance(changes.get("contact_channels"), Mapping):
            merged["contact_channels"] = {**current["contact_channels"], **changes["contact_channels"]}
        preferences = Preferences.model_validate(merged)
        changed = tuple(
            name
            for name in Preferences.model_fields
            if getattr(preferences, name) != getattr(self.state.preferences, name)
        )
        if changed:
            self._trigger(PreferencesUpdated(occurred_at=now, preferences=preferences, changed=changed))

    def record_consent(
        self, purpose: str, granted: bool, source: str | None, legal_basis: str | None, now: datetime
    ) -> None:
        self._require_active("updated")
        self._trigger(
            ConsentRecorded(
                occurred_at=now,
                purpose=checked_purpose(purpose),
                granted=granted,
                source=source,
                legal_basis=legal_basis,
            )
        )

    def absorb(self, source: "Customer", now: datetime) -> None:
        """Merges `source` into this customer: this one takes what it lacks, the source is closed."""
        if source.id == self.id:
            raise InvalidMerge("a customer cannot be merged into itself")
        if source.state.business_id != self.state.business_id:
            raise InvalidMerge("customers of different businesses cannot be merged")
        self._require_active("merged into")
        source._require_active("merged")
        self._require_history_at_hand()
        source._require_history_at_hand()
        history_mergeable(source.id, source.state)
        taken = {
            field: getattr(source.state, field)
            for field in MERGE_TAKES
            if getattr(self.state, field) is None and getattr(source.state, field) is not None
        }
        purchases = source.state.purchases
        # The source is closed first: it releases its email and phone for the target to take.
        source._trigger(CustomerMergedInto(occurred_at=now, target_customer_id=self.id))
        self._trigger(
            CustomerMerged(
                occurred_at=now,
                source_customer_id=source.id,
                taken=_jsonable(taken),
                note_counts={owner: count for owner, count in source.state.note_counts.items() if count},
                consents=source.state.consent_log,
                purchases=purchases,
                history_owners=source.state.history_owners,
            )
        )
        self._settle_type(now)

    def erase(self, now: datetime) -> None:
        """GDPR erasure, from any status but erased: personal data goes, facts stay."""
        if self.state.status == CustomerStatus.ERASED:
            raise CustomerNotActive(self.id, self.state.status, "erased again")
        self._trigger(CustomerErased(occurred_at=now))

    def add_missing_contact(self, contact: Mapping[str, str], default_region: str, now: datetime) -> None:
        """Takes the names, email and phone it lacks from an order; never overwrites one."""
        missing = {field: value for field, value in contact.items() if getattr(self.state, field) is None}
        if missing and self.state.status == CustomerStatus.ACTIVE:
            current = {field: value for field, value in self.state.profile().items() if field != "type"}
            self._change_profile({**current, **missing}, default_region, now)

    # public commands: orders and payments
    #
    # Each is idempotent (a fact already known triggers nothing), and the history merges
    # facts commutatively, so redeliveries and out-of-order arrival change nothing. A merged
    # customer has handed its history to its target, which the caller must address instead.

    def link_order(
        self,
        *,
        order_id: str,
        roles: tuple[OrderRole, ...],
        purchaser: bool,
        placed_at: datetime,
        total_amount_minor: int,
        currency: str,
        items_count: int,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is not None and set(roles) <= set(known.roles) and (known.purchaser or not purchaser):
            return
        self._trigger(
            OrderLinked(
                occurred_at=now,
                order_id=order_id,
                roles=tuple(sorted(set(roles))),
                purchaser=purchaser,
                first_time=not any(order.order_id != order_id for order in self.state.purchases.orders),
                placed_at=placed_at,
                total_amount_minor=total_amount_minor,
                currency=currency,
                items_count=items_count,
                customer_snapshot=self.state.summary(),
            )
        )

    def complete_order(
        self,
        *,
        order_id: str,
        completed_at: datetime,
        total_amount_minor: int,
        currency: str,
        items_count: int,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is None or known.status == OrderStatus.COMPLETED:
            return
        self._trigger(
            OrderCompleted(
                occurred_at=now,
                order_id=order_id,
                completed_at=completed_at,
                total_amount_minor=total_amount_minor,
                currency=currency,
                items_count=items_count,
            )
        )
        self._settle_type(now)

    def cancel_order(self, *, order_id: str, cancelled_at: datetime, reason: str | None, now: datetime) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is None or known.status != OrderStatus.OPEN:
            return
        self._trigger(OrderCancelled(occurred_at=now, order_id=order_id, cancelled_at=cancelled_at, reason=reason))

    def link_payment(
        self,
        *,
        payment_id: str,
        order_id: str | None,
        status: PaymentStatus,
        amount_minor: int,
        currency: str,
        method: str | None,
        at: datetime,
        failure_reason: str | None,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.payment(payment_id)
        if known is not None and (known.status == status or known.status == PaymentStatus.SUCCEEDED):
            return
        self._trigger(
            PaymentLinked(
                occurred_at=now,
                payment_id=payment_id,
                order_id=order_id,
                status=status,
                amount_minor=amount_minor,
                currency=currency,
                method=method,
                at=at,
                failure_reason=failure_reason,
            )
        )

    def record_refund(
        self,
        *,
        payment_id: str,
        refund_id: str,
        amount_minor: int,
        currency: str,
        refunded_at: datetime,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.payment(payment_id)
        if known is None or any(refund.refund_id == refund_id for refund in known.refunds):
            return
        self._trigger(
            PaymentRefunded(
                occurred_at=now,
                payment_id=payment_id,
                refund_id=refund_id,
                amount_minor=amount_minor,
                currency=currency,
                refunded_at=refunded_at,
            )
        )

    # public queries

    @property
    def state(self) -> CustomerState:
        if self._state is None:
            raise LookupError(f"customer {self.id} has no events")
        return self._state

    # replay

    @classmethod
    def from_history(cls, customer_id: str, events: Iterable[CustomerEvent]) -> "Customer":
        customer = cls(customer_id)
        for event in events:
            customer.apply(event)
        return customer

    @classmethod
    def from_state(cls, state: CustomerState, history_at_hand: bool = True) -> "Customer":
        """`history_at_hand=False`: `state.purchases` was left out (the metrics are there)."""
        customer = cls(state.id)
        customer._state = state
        customer.version = state.version
        customer.history_at_hand = history_at_hand
        return customer

    def apply(self, event: CustomerEvent) -> None:
        """The one way the state changes (what each event does: `domain.customer.state`)."""
        if not self.history_at_hand and reads_purchases(event) and not isinstance(event, CustomerMergedInto):
            raise HistoryNotAtHand(self.id, type(event).__name__)
        self._size = None
        self.version += 1
        self._state = state_after(self._state, event, self.id, self.version)

    # private

    def _change_profile(
        self, values: Mapping[str, Any], default_region: str, now: datetime, by_staff: bool = False
    ) -> None:
        """`by_staff`: staff gave an email or phone and asked for no type (PATCH, PUT)."""
        self._require_active("updated")
        current = self.state.profile()
        normalized = normalized_profile(values, self.state.type, default_region)
        changed = {field: value for field, value in normalized.items() if value != current[field]}
        if changed:
            self._trigger(CustomerProfileUpdated(occurred_at=now, changes=_jsonable(changed)))
        self._settle_type(now, completed_by_staff=by_staff)

    def _settle_type(self, now: datetime, completed_by_staff: bool = False) -> None:
        """Triggers the type moves the rules call for now (at most two: anonymous, new, regular)."""
        for _ in range(3):
            state = self.state
            if state.status != CustomerStatus.ACTIVE:
                return
            move = type_move(
                state.type,
                has_contact=bool(state.email or state.phone),
                completed_purchases=state.metrics.total_purchases,
                completed_by_staff=completed_by_staff,
            )
            if move is None:
                return
            self._trigger(
                CustomerTypeChanged(occurred_at=now, from_type=state.type, to_type=move.to, reason=move.reason)
            )

    def _trigger(self, event: CustomerEvent) -> None:
        before = self._state
        size_before = byte_size(before) if self._size is None else self._size
        self.apply(event)
        if not isinstance(event, LIFECYCLE_EVENTS):
            try:
                self._size = within_budget(self.id, size_before, self.state)
                if isinstance(event, PaymentRefunded):
                    payment_within_budget(self.id, self.state, event.payment_id)
            except CustomerTooLarge:
                # Nothing happened: the customer stays as it was, and the command fails.
                self._state, self._size, self.version = before, size_before, self.version - 1
                raise
        self.pending_events.append(event)

    def _require_active(self, action: str) -> None:
        if self.state.status != CustomerStatus.ACTIVE:
            raise CustomerNotActive(self.id, self.state.status, action)

    def _require_history_open(self) -> None:
        self._require_history_at_hand()
        if not self.state.history_open:
            raise CustomerNotActive(self.id, self.state.status, "given purchases")

    def _require_history_at_hand(self) -> None:
        if not self.history_at_hand:
            raise HistoryNotAtHand(self.id, "a purchase fact or a merge")


class HistoryNotAtHand(RuntimeError):
    """A caller's mistake, not a client's: a purchase fact or a merge needs the purchase
    history, and the customer was loaded without it."""

    def __init__(self, customer_id: str, needed_by: str):
        super().__init__(f"customer {customer_id} was loaded without its purchase history, which {needed_by} needs")


# Events that never accumulate anything, and are never refused by the byte budget.
LIFECYCLE_EVENTS = (CustomerDeleted, CustomerRestored, CustomerMergedInto, CustomerErased)


def _completes_contact(values: Mapping[str, Any]) -> bool:
    """Whether a staff change gives an email or phone and leaves the type to the rules."""
    return bool(values.get("email") or values.get("phone")) and values.get("type") is None


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Event payloads hold plain JSON values, so that they read back exactly as written."""
    return {
        field: value.model_dump(mode="json")
        if isinstance(value, BaseModel)
        else list(value)
        if isinstance(value, tuple)
        else value
        for field, value in values.items()
    }
