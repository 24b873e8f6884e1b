"""Request and response bodies of the customer routes; they drive the OpenAPI schema."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from application.queries.list_customers import CustomerPage
from domain.customer.aggregate import ProfileInput
from domain.customer.consents import PURPOSE_PATTERN
from domain.customer.metrics import PurchaseMetrics
from domain.customer.notes import NOTE_MAX_LENGTH, Note, NoteType
from domain.customer.preferences import LANGUAGE_PATTERN, Preferences
from domain.customer.profile import (
    ATTRIBUTE_KEY_PATTERN,
    ATTRIBUTE_VALUE_MAX_LENGTH,
    ATTRIBUTES_MAX_COUNT,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    Address,
    AttributeValue,
    Billing,
    CustomerSegment,
    CustomerStatus,
    CustomerType,
)
from domain.customer.state import CustomerState

# The domain's rules for tags and attributes (answered as 422s), stated in the schema too,
# so that a client or a fuzzer working from it sends what is accepted.
# BSON integers are 64-bit.
NUMBER_RANGE = {"minimum": -(2**63), "maximum": 2**63 - 1}
TAGS_SCHEMA = {"maxItems": TAGS_MAX_COUNT, "items": {"type": "string", "maxLength": TAG_MAX_LENGTH}}


def _only_booleans(value: Any) -> Any:
    # Litestar validates bodies with `strict=False`, which overrides pydantic's StrictBool.
    if not isinstance(value, bool):
        raise ValueError("a JSON boolean: true or false")
    return value


# A JSON boolean, not 0, 1 or "false".
Boolean = Annotated[bool, BeforeValidator(_only_booleans)]


def attributes_schema(removable: bool) -> dict[str, Any]:
    values: list[dict[str, Any]] = [
        {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX_LENGTH},
        {"type": "number", **NUMBER_RANGE},
        {"type": "boolean"},
    ]
    if removable:
        values.append({"type": "null"})
    return {
        "propertyNames": {"pattern": ATTRIBUTE_KEY_PATTERN},
        "maxProperties": ATTRIBUTES_MAX_COUNT,
        "additionalProperties": {"anyOf": values},
    }


class CustomerProfileBody(ProfileInput):
    """The editable profile. Unknown fields are refused, so that a typo is not silently lost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    tags: list[str] = Field(default_factory=list, max_length=100, json_schema_extra=TAGS_SCHEMA)
    attributes: dict[str, AttributeValue] = Field(
        default_factory=dict,
        description=f"Small custom map: at most {ATTRIBUTES_MAX_COUNT} keys.",
        json_schema_extra=attributes_schema(removable=False),
    )


class CustomerPatchBody(BaseModel):
    """PATCH: only the fields sent change; null clears a field; `attributes` is merged
    (a key set to null is removed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    address: Address | None = None
    billing: Billing | None = Field(default=None, description="The billing profile as a whole; null removes it.")
    type: CustomerType | None = None
    segment: CustomerSegment | None = None
    tags: list[str] | None = Field(default=None, max_length=100, json_schema_extra=TAGS_SCHEMA)
    attributes: dict[str, AttributeValue | None] | None = Field(
        default=None, json_schema_extra=attributes_schema(removable=True)
    )

    def changes(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.model_fields_set}


class ContactChannelsPatch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Not nullable: a channel left out keeps its value.
    sms: Boolean = False
    email: Boolean = False
    call: Boolean = False
    push: Boolean = False


class PreferencesPatchBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_channels: ContactChannelsPatch | None = None
    # Not nullable: a PATCH leaves it out to keep it.
    do_not_contact: Boolean = False
    best_contact_time: str | None = Field(default=None, max_length=50)
    preferred_payment: str | None = Field(default=None, max_length=50)
    favorite_products: list[str] = Field(default_factory=list, max_length=50)
    language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] | None = None

    def changes(self) -> dict[str, Any]:
        changes = {field: getattr(self, field) for field in self.model_fields_set if field != "contact_channels"}
        if self.contact_channels is not None:
            changes["contact_channels"] = self.contact_channels.model_dump(exclude_unset=True)
        return changes


class ConsentBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    granted: Boolean
    source: str | None = Field(default=None, max_length=100)
    legal_basis: str | None = Field(default=None, max_length=50, description='e.g. "consent", "contract"')


class NoteBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: NoteType
    content: str = Field(min_length=1, max_length=NOTE_MAX_LENGTH)


class NoteResource(Note):
    customer_id: str


class MergeBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source_customer_id: str = Field(min_length=1, max_length=64)


class ConsentResource(BaseModel):
    granted: bool
    at: datetime
    source: str | None = None
    legal_basis: str | None = None


class MetricsResource(PurchaseMetrics):
    days_since_last_purchase: int | None = None

    @classmethod
    def of(cls, metrics: PurchaseMetrics) -> "MetricsResource":
        # Computed when read: it changes every day without any event.
        last = metrics.last_purchase_at
        return cls(**metrics.model_dump(), days_since_last_purchase=(datetime.now(UTC) - last).days if last else None)


PURPOSE = PURPOSE_PATTERN.pattern


class CustomerResource(BaseModel):
    """A customer, as in the contract's Customer resource."""

    id: str
    business_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None = Field(description="E.164")
    address: Address | None
    billing: Billing | None = Field(
        default=None, description="Who invoices are made out to; personal data (sealed, exported, erased)."
    )
    type: CustomerType
    segment: CustomerSegment
    status: CustomerStatus
    tags: list[str]
    # anyOf: Litestar's oneOf of the value types refuses integers (both `integer` and `number`).
    attributes: dict[str, AttributeValue] = Field(
        json_schema_extra={"additionalProperties": {"anyOf": [{"type": t} for t in ("string", "number", "boolean")]}}
    )
    preferences: Preferences
    consents: dict[str, ConsentResource] = Field(
        description="The current value per purpose; the log is in the history."
    )
    metrics: MetricsResource
    merged_into: str | None = Field(default=None, description="For a merged customer: the customer it now lives on as.")
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
            billing=state.billing,
            type=state.type,
            segment=state.segment,
            status=state.status,
            tags=list(state.tags),
            attributes=state.attributes,
            preferences=state.preferences,
            consents={
                purpose: ConsentResource(
                    granted=entry.granted, at=entry.at, source=entry.source, legal_basis=entry.legal_basis
                )
                for purpose, entry in state.consents.items()
            },
            metrics=MetricsResource.of(state.metrics),
            merged_into=state.merged_into,
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
