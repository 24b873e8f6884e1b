"""The profile value objects of a customer."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CustomerType(StrEnum):
    REGULAR = "regular"
    UNREGISTERED = "unregistered"
    NEW = "new"
    ANONYMOUS = "anonymous"


class CustomerSegment(StrEnum):
    WALK_IN = "walk_in"
    REGULAR = "regular"
    VIP = "vip"
    WHOLESALE = "wholesale"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"
    MERGED = "merged"
    ERASED = "erased"


TAX_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$"


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class Billing(BaseModel):
    """Who invoices are made out to (contract v1.1). Personal data: sealed in the events,
    exported, erased. The invoices themselves belong to the billing service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    tax_id: str | None = Field(
        default=None, max_length=32, pattern=TAX_ID_PATTERN, description="e.g. PT123456789: letters, digits, -./ "
    )
    invoice_email: str | None = Field(default=None, max_length=320)
    address: Address | None = None


TAG_MAX_LENGTH = 50
TAGS_MAX_COUNT = 50

ATTRIBUTES_MAX_COUNT = 20
ATTRIBUTE_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
ATTRIBUTE_VALUE_MAX_LENGTH = 200
AttributeValue = str | int | float | bool

# The profile fields a client edits with PATCH and PUT.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "billing",
    "type",
    "segment",
    "tags",
    "attributes",
)
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "address")
# What a merge's target takes from its source when it lacks it.
MERGE_TAKES = (*CONTACT_FIELDS, "billing")
