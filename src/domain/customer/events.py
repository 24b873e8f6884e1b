"""The events of the Customer aggregate: small, immutable, versioned for upcasting."""

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from domain.customer.profile import Address, CustomerSegment, CustomerType


class CustomerEvent(BaseModel):
    """Base of every customer event. `schema_version` is bumped when the shape changes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1
    # The public name on the `customers` exchange, e.g. `customer.registered`.
    routing_key: ClassVar[str]

    occurred_at: datetime


class CustomerRegistered(CustomerEvent):
    routing_key: ClassVar[str] = "customer.registered"

    business_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    type: CustomerType
    segment: CustomerSegment
    tags: tuple[str, ...] = ()


CUSTOMER_EVENT_TYPES: dict[str, type[CustomerEvent]] = {
    event_type.__name__: event_type for event_type in (CustomerRegistered,)
}
