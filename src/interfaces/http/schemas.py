"""Request and response bodies of the customer routes; they drive the OpenAPI schema."""

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from application.queries.list_customers import CustomerPage
from domain.customer.aggregate import CustomerState, ProfileInput
from domain.customer.profile import Address, CustomerSegment, CustomerStatus, CustomerType

FrequencyTier = Literal["none", "one_time", "occasional", "regular", "frequent"]


class CustomerProfileBody(ProfileInput):
    """The editable profile. Unknown fields are refused, so that a typo is not silently lost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    tags: tuple[str, ...] = Field(default=(), max_length=100)


class ContactChannels(BaseModel):
    sms: bool = False
    email: bool = False
    call: bool = False
    push: bool = False


class Preferences(BaseModel):
    contact_channels: ContactChannels = Field(default_factory=ContactChannels)
    do_not_contact: bool = False
    best_contact_time: str | None = None
    preferred_payment: str | None = None
    favorite_products: list[str] = Field(default_factory=list)
    language: str | None = None


class Consent(BaseModel):
    granted: bool
    at: datetime
    source: str | None = None


class Spend(BaseModel):
    total_minor: int
    refunded_minor: int
    average_minor: int
    lifetime_value_minor: int


class Metrics(BaseModel):
    total_purchases: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None
    days_since_last_purchase: int | None = None
    is_repeat_customer: bool = False
    frequency_tier: FrequencyTier = "none"
    open_orders: int = 0
    spend: dict[str, Spend] = Field(default_factory=dict, description="Per ISO 4217 currency, never mixed.")


class CustomerResource(BaseModel):
    """A customer, as in the contract's Customer resource."""

    id: str
    business_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None = Field(description="E.164")
    address: Address | None
    type: CustomerType
    segment: CustomerSegment
    status: CustomerStatus
    tags: list[str]
    preferences: Preferences
    consents: dict[str, Consent]
    metrics: Metrics
    version: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def from_state(cls, state: CustomerState) -> "CustomerResource":
        return cls(
            id=state.id,
            business_id=state.business_id,
            first_name=state.first_name,
            last_name=state.last_name,
            email=state.email,
            phone=state.phone,
            address=state.address,
            type=state.type,
            segment=state.segment,
            status=state.status,
            tags=list(state.tags),
            # Preferences, consents and purchases arrive with their own commands and events.
            preferences=Preferences(),
            consents={},
            metrics=Metrics(),
            version=state.version,
            created_at=state.created_at.astimezone(UTC),
            updated_at=state.updated_at.astimezone(UTC),
            deleted_at=state.deleted_at,
        )


class CustomerPageResource(BaseModel):
    """One page of customers; `next_cursor` is null on the last page."""

    items: list[CustomerResource]
    next_cursor: str | None

    @classmethod
    def from_page(cls, page: CustomerPage) -> "CustomerPageResource":
        return cls(items=[CustomerResource.from_state(state) for state in page.items], next_cursor=page.next_cursor)
