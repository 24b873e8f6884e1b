"""The Customer aggregate.

Commands are methods that check the invariants and then trigger an event; the state
changes only in `apply`, so replaying the stream rebuilds exactly the same customer.
The domain neither reads the clock nor invents ids: both are passed in.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.customer.contact import email_key
from domain.customer.consents import ConsentEntry, current_consents
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
    NoteAdded,
    PreferencesUpdated,
)
from domain.customer.metrics import PurchaseMetrics, purchase_metrics
from domain.customer.purchase_commands import CustomerPurchases, purchases_after
from domain.customer.purchases import PurchaseHistory
from domain.customer.notes import NOTE_MAX_LENGTH, NOTES_MAX_COUNT, Note, NoteType
from domain.customer.preferences import Preferences
from domain.customer.profile import (
    CONTACT_FIELDS,
    PROFILE_FIELDS,
    Address,
    CustomerSegment,
    CustomerStatus,
    CustomerType,
)
from domain.customer.profile_rules import normalized_profile
from domain.errors import CustomerNotActive, FieldError, HasOpenOrders, InvalidCustomerData, InvalidMerge


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
    type: CustomerType
    segment: CustomerSegment
    status: CustomerStatus = CustomerStatus.ACTIVE
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}
    preferences: Preferences = Preferences()
    consent_log: tuple[ConsentEntry, ...] = ()
    notes: tuple[Note, ...] = ()
    # Orders and payments; `metrics` is computed from it (domain.customer.metrics).
    purchases: PurchaseHistory = PurchaseHistory()
    metrics: PurchaseMetrics = PurchaseMetrics()
    merged_into: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def consents(self) -> dict[str, ConsentEntry]:
        return current_consents(self.consent_log)

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


class ProfileInput(BaseModel):
    """Profile data as a command gives it, before normalization."""

    model_config = ConfigDict(frozen=True)

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    type: CustomerType | None = None
    segment: CustomerSegment | None = None
    tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = {}


class Customer(CustomerPurchases):
    # Bump when `apply` changes what an event does to the state: it invalidates snapshots.
    SNAPSHOT_VERSION = 1

    def __init__(self, customer_id: str):
        self.id = customer_id
        self.version = 0
        self._state: CustomerState | None = None
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
        profile = ProfileInput(**contact, type=CustomerType.UNREGISTERED if has_contact else None)
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
        self._change_profile({**current, **changes}, default_region, now)

    def replace_profile(self, profile: ProfileInput, default_region: str, now: datetime) -> None:
        """Full replace: every editable field takes the given value or its default."""
        self._change_profile(profile.model_dump(), default_region, now)

    def delete(self, now: datetime) -> None:
        self._require_active("deleted")
        if self.state.metrics.open_orders:
            raise HasOpenOrders(self.id, self.state.metrics.open_orders)
        self._trigger(CustomerDeleted(occurred_at=now))

    def restore(self, now: datetime) -> None:
        if self.state.status != CustomerStatus.DELETED:
            raise CustomerNotActive(self.id, self.state.status, "restored (only a deleted customer can)")
        self._trigger(CustomerRestored(occurred_at=now))

    def add_note(self, note_id: str, note_type: NoteType, content: str, author: str, now: datetime) -> Note:
        self._require_active("given notes")
        text = content.strip()
        if not text or len(text) > NOTE_MAX_LENGTH:
            raise InvalidCustomerData([FieldError("content", f"must have 1 to {NOTE_MAX_LENGTH} characters")])
        if len(self.state.notes) >= NOTES_MAX_COUNT:
            raise InvalidCustomerData([FieldError("content", f"a customer holds at most {NOTES_MAX_COUNT} notes")])
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
        changed = tuple(name for name in Preferences.model_fields if getattr(preferences, name) != getattr(self.state.preferences, name))
        if changed:
            self._trigger(PreferencesUpdated(occurred_at=now, preferences=preferences, changed=changed))

    def record_consent(
        self, purpose: str, granted: bool, source: str | None, legal_basis: str | None, now: datetime
    ) -> None:
        self._require_active("updated")
        self._trigger(
            ConsentRecorded(occurred_at=now, purpose=purpose, granted=granted, source=source, legal_basis=legal_basis)
        )

    def absorb(self, source: "Customer", now: datetime) -> None:
        """Merges `source` into this customer: this one takes what it lacks, the source is closed."""
        if source.id == self.id:
            raise InvalidMerge("a customer cannot be merged into itself")
        if source.state.business_id != self.state.business_id:
            raise InvalidMerge("customers of different businesses cannot be merged")
        self._require_active("merged into")
        source._require_active("merged")
        taken = {
            field: getattr(source.state, field)
            for field in CONTACT_FIELDS
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
                notes=source.state.notes,
                consents=source.state.consent_log,
                purchases=purchases,
            )
        )

    def erase(self, now: datetime) -> None:
        """GDPR erasure, from any status but erased: personal data goes, facts stay."""
        if self.state.status == CustomerStatus.ERASED:
            raise CustomerNotActive(self.id, self.state.status, "erased again")
        self._trigger(CustomerErased(occurred_at=now))

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
    def from_state(cls, state: CustomerState) -> "Customer":
        customer = cls(state.id)
        customer._state = state
        customer.version = state.version
        return customer

    def apply(self, event: CustomerEvent) -> None:
        """The one place where state changes."""
        self.version += 1
        if isinstance(event, CustomerRegistered):
            self._state = CustomerState(
                id=self.id,
                **event.model_dump(exclude={"occurred_at"}),
                version=self.version,
                created_at=event.occurred_at,
                updated_at=event.occurred_at,
            )
            return
        state = self.state
        match event:
            case CustomerProfileUpdated():
                update = _validated(state, event.changes)
            case CustomerDeleted():
                update = {"status": CustomerStatus.DELETED, "deleted_at": event.occurred_at}
            case CustomerRestored():
                update = {"status": CustomerStatus.ACTIVE, "deleted_at": None}
            case NoteAdded():
                update = {"notes": (*state.notes, event.note)}
            case PreferencesUpdated():
                update = {"preferences": event.preferences}
            case ConsentRecorded():
                update = {"consent_log": (*state.consent_log, event.entry)}
            case CustomerMerged():
                purchases = state.purchases.merged_with(event.purchases)
                update = {
                    **_validated(state, event.taken),
                    "notes": (*state.notes, *event.notes),
                    "consent_log": tuple(sorted((*state.consent_log, *event.consents), key=lambda entry: entry.at)),
                    "purchases": purchases,
                    "metrics": purchase_metrics(purchases),
                }
            case CustomerErased():
                update = {
                    **{field: None for field in ("first_name", "last_name", "email", "phone", "address")},
                    "tags": (),
                    "attributes": {},
                    "status": CustomerStatus.ERASED,
                    "notes": tuple(note.model_copy(update={"content": None}) for note in state.notes),
                }
            case CustomerMergedInto():
                # Its purchase history moves to the target (see CustomerMerged).
                update = {"status": CustomerStatus.MERGED, "merged_into": event.target_customer_id,
                          "purchases": PurchaseHistory(), "metrics": PurchaseMetrics()}
            case _:
                purchases = purchases_after(state.purchases, event)
                if purchases is None:
                    raise TypeError(f"Customer cannot apply {type(event).__name__}")
                update = {"purchases": purchases, "metrics": purchase_metrics(purchases)}
        self._state = state.model_copy(update={**update, "version": self.version, "updated_at": event.occurred_at})

    # private

    def _change_profile(self, values: Mapping[str, Any], default_region: str, now: datetime) -> None:
        self._require_active("updated")
        current = self.state.profile()
        normalized = normalized_profile(values, self.state.type, default_region)
        changed = {field: value for field, value in normalized.items() if value != current[field]}
        if changed:
            self._trigger(CustomerProfileUpdated(occurred_at=now, changes=_jsonable(changed)))

    def _trigger(self, event: CustomerEvent) -> None:
        self.apply(event)
        self.pending_events.append(event)

    def _require_active(self, action: str) -> None:
        if self.state.status != CustomerStatus.ACTIVE:
            raise CustomerNotActive(self.id, self.state.status, action)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    """Event payloads hold plain JSON values, so that they read back exactly as written."""
    return {
        field: value.model_dump(mode="json") if isinstance(value, BaseModel) else list(value) if isinstance(value, tuple) else value
        for field, value in values.items()
    }


def _validated(state: CustomerState, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Typed values for `changes` (an address dict becomes an Address, and so on)."""
    probe = CustomerState.model_validate({**state.model_dump(), **changes})
    return {field: getattr(probe, field) for field in changes}
