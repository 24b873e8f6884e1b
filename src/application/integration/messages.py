"""The inbound contract (../shared/contracts/inbound-events.md) as pydantic models.

Strict on purpose: the contract says other services send exactly this shape and change
it only under a new `schema_version`, so an unknown field, a missing one, a string for a
number or a non-UTC-aware time is a schema mismatch and the message is parked.
"""

import re
from typing import Annotated, Generic, Literal, Self, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

SUPPORTED_SCHEMA_VERSIONS: dict[str, frozenset[int]] = {
    "order.placed": frozenset({1}),
    "order.completed": frozenset({1}),
    "order.cancelled": frozenset({1}),
    "payment.succeeded": frozenset({1}),
    "payment.refunded": frozenset({1}),
    "payment.failed": frozenset({1}),
}
ROUTING_KEYS_BY_EXCHANGE: dict[str, tuple[str, ...]] = {
    "orders": ("order.placed", "order.completed", "order.cancelled"),
    "payments": ("payment.succeeded", "payment.refunded", "payment.failed"),
}

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(max_length=500)]
MinorUnits = Annotated[int, Field(strict=True, ge=0)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Count = Annotated[int, Field(strict=True, ge=0)]


class ContractModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(ContractModel):
    customer_id: Id | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    email: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> "Person":
        if not any((self.customer_id, self.first_name, self.last_name, self.email, self.phone)):
            raise ValueError("a person needs at least one of customer_id, email, phone, first_name, last_name")
        return self


class OrderPlacedData(ContractModel):
    order_id: Id
    placed_at: AwareDatetime
    booker: Person | None = None
    attendees: Annotated[list[Person], Field(max_length=1000)] = []
    total_amount_minor: MinorUnits
    currency: Currency
    items_count: Count
    service_ids: Annotated[list[Id], Field(max_length=1000)] = []


class OrderCompletedData(ContractModel):
    order_id: Id
    completed_at: AwareDatetime
    total_amount_minor: MinorUnits
    currency: Currency
    items_count: Count


class OrderCancelledData(ContractModel):
    order_id: Id
    cancelled_at: AwareDatetime
    reason: Text | None = None


class PaymentSucceededData(ContractModel):
    payment_id: Id
    order_id: Id | None
    payer: Person
    amount_minor: MinorUnits
    currency: Currency
    method: Text | None = None
    paid_at: AwareDatetime


class PaymentRefundedData(ContractModel):
    payment_id: Id
    refund_id: Id
    amount_minor: MinorUnits
    currency: Currency
    refunded_at: AwareDatetime


class PaymentFailedData(ContractModel):
    payment_id: Id
    order_id: Id | None
    payer: Person
    amount_minor: MinorUnits
    currency: Currency
    reason: Text | None = None
    failed_at: AwareDatetime


DataT = TypeVar("DataT")
# W3C Trace Context, version 00: https://www.w3.org/TR/trace-context/#traceparent-header
TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


class Envelope(ContractModel, Generic[DataT]):
    """What every message has; `Envelope[dict[str, Any]]` reads one of any type."""

    event_id: UUID
    event_type: str
    schema_version: Annotated[int, Field(strict=True)]
    occurred_at: AwareDatetime
    business_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    data: DataT
    # The trace the sender was in (its `traceparent` AMQP header): not part of the body,
    # whose shape the contract fixes. The events the message causes carry it on.
    _traceparent: str | None = PrivateAttr(default=None)

    @property
    def message_id(self) -> str:
        return str(self.event_id)

    @property
    def traceparent(self) -> str | None:
        return self._traceparent

    def sent_in_trace(self, traceparent: str | None) -> Self:
        """This message, in the trace a `traceparent` header names (one that is not valid
        W3C trace context is ignored: it never refuses a message)."""
        self._traceparent = traceparent if traceparent and TRACEPARENT.match(traceparent) else None
        return self


class OrderPlaced(Envelope[OrderPlacedData]):
    event_type: Literal["order.placed"]


class OrderCompleted(Envelope[OrderCompletedData]):
    event_type: Literal["order.completed"]


class OrderCancelled(Envelope[OrderCancelledData]):
    event_type: Literal["order.cancelled"]


class PaymentSucceeded(Envelope[PaymentSucceededData]):
    event_type: Literal["payment.succeeded"]


class PaymentRefunded(Envelope[PaymentRefundedData]):
    event_type: Literal["payment.refunded"]


class PaymentFailed(Envelope[PaymentFailedData]):
    event_type: Literal["payment.failed"]


InboundMessage = OrderPlaced | OrderCompleted | OrderCancelled | PaymentSucceeded | PaymentRefunded | PaymentFailed
INBOUND_MESSAGE_TYPES: dict[str, type[InboundMessage]] = {
    "order.placed": OrderPlaced,
    "order.completed": OrderCompleted,
    "order.cancelled": OrderCancelled,
    "payment.succeeded": PaymentSucceeded,
    "payment.refunded": PaymentRefunded,
    "payment.failed": PaymentFailed,
}
