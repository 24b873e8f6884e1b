"""Events of the order and payment links: what this service has heard about one order or
one payment of another service. Stored like customer events, never published."""

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from domain.customer.purchases import OrderRole, PaymentStatus
from domain.events import DomainEvent


class LinkEvent(DomainEvent):
    published: ClassVar[bool] = False


class Participant(BaseModel):
    """A customer an order was matched to, and as what (booker, attendee or both)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    roles: tuple[OrderRole, ...]


class OrderPlacementRecorded(LinkEvent):
    routing_key: ClassVar[str] = "order_link.placement_recorded"

    order_id: str
    placed_at: datetime
    participants: tuple[Participant, ...]
    # Credited with the purchase: the booker's customer, else the first attendee's.
    purchaser_id: str | None
    total_amount_minor: int
    currency: str
    items_count: int
    service_ids: tuple[str, ...] = ()


class OrderCompletionRecorded(LinkEvent):
    routing_key: ClassVar[str] = "order_link.completion_recorded"

    completed_at: datetime
    total_amount_minor: int
    currency: str
    items_count: int


class OrderCancellationRecorded(LinkEvent):
    routing_key: ClassVar[str] = "order_link.cancellation_recorded"

    cancelled_at: datetime
    reason: str | None = None


class PaymentOutcomeRecorded(LinkEvent):
    routing_key: ClassVar[str] = "payment_link.outcome_recorded"

    payment_id: str
    status: PaymentStatus
    # The customer the payer was matched to, on the first outcome; None if it gave no usable data.
    payer_id: str | None
    order_id: str | None = None
    amount_minor: int
    currency: str
    method: str | None = None
    at: datetime
    failure_reason: str | None = None


class PaymentRefundRecorded(LinkEvent):
    routing_key: ClassVar[str] = "payment_link.refund_recorded"

    refund_id: str
    amount_minor: int
    currency: str
    refunded_at: datetime


LINK_EVENT_TYPES: dict[str, type[LinkEvent]] = {
    event_type.__name__: event_type
    for event_type in (
        OrderPlacementRecorded,
        OrderCompletionRecorded,
        OrderCancellationRecorded,
        PaymentOutcomeRecorded,
        PaymentRefundRecorded,
    )
}
