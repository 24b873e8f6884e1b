"""The Customer aggregate.

Commands are methods that check the invariants and then trigger an event; the state
changes only in `apply`, so replaying the stream rebuilds exactly the same customer.
The domain neither reads the clock nor invents ids: both are passed in.
"""

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.customer.contact import clean_email, clean_name, clean_phone
from domain.customer.events import CustomerEvent, CustomerRegistered
from domain.customer.profile import (
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Address,
    CustomerSegment,
    CustomerStatus,
    CustomerType,
)
from domain.errors import FieldError, InvalidCustomerData


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
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


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


class Customer:
    def __init__(self, customer_id: str):
        self.id = customer_id
        self.version = 0
        self._state: CustomerState | None = None
        self.pending_events: list[CustomerEvent] = []

    # public commands

    @classmethod
    def register(
        cls,
        *,
        customer_id: str,
        business_id: str,
        profile: ProfileInput,
        default_region: str,
        now: datetime,
    ) -> "Customer":
        errors: list[FieldError] = []
        first_name = clean_name("first_name", profile.first_name, errors)
        last_name = clean_name("last_name", profile.last_name, errors)
        email = clean_email(profile.email, errors)
        phone = clean_phone(profile.phone, default_region, errors)
        tags = _clean_tags(profile.tags, errors)
        if not errors and not any((first_name, last_name, email, phone)):
            errors.append(
                FieldError("first_name", "at least one of first_name, last_name, email or phone is required")
            )
        if errors:
            raise InvalidCustomerData(errors)
        customer = cls(customer_id)
        customer._trigger(
            CustomerRegistered(
                occurred_at=now,
                business_id=business_id,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                address=profile.address,
                type=profile.type or _default_type(email, phone),
                segment=profile.segment or CustomerSegment.WALK_IN,
                tags=tags,
            )
        )
        return customer

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
        match event:
            case CustomerRegistered():
                self._state = CustomerState(
                    id=self.id,
                    business_id=event.business_id,
                    first_name=event.first_name,
                    last_name=event.last_name,
                    email=event.email,
                    phone=event.phone,
                    address=event.address,
                    type=event.type,
                    segment=event.segment,
                    tags=event.tags,
                    version=self.version,
                    created_at=event.occurred_at,
                    updated_at=event.occurred_at,
                )
            case _:
                raise TypeError(f"Customer cannot apply {type(event).__name__}")

    # private

    def _trigger(self, event: CustomerEvent) -> None:
        self.apply(event)
        self.pending_events.append(event)


def _default_type(email: str | None, phone: str | None) -> CustomerType:
    # A customer no one can contact is anonymous; anyone else starts as new.
    return CustomerType.NEW if (email or phone) else CustomerType.ANONYMOUS


def _clean_tags(tags: Iterable[str], errors: list[FieldError]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in tags:
        trimmed = tag.strip()
        if not trimmed:
            continue
        if len(trimmed) > TAG_MAX_LENGTH:
            errors.append(FieldError("tags", f"each tag must be at most {TAG_MAX_LENGTH} characters"))
            continue
        if trimmed not in cleaned:
            cleaned.append(trimmed)
    if len(cleaned) > TAGS_MAX_COUNT:
        errors.append(FieldError("tags", f"at most {TAGS_MAX_COUNT} tags"))
    return tuple(cleaned)
