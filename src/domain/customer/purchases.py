"""A customer's purchase history: the orders it took part in and the payments it made.

Every change is a merge of facts, and each merge is commutative and idempotent (a
completed order stays completed whatever else arrives, refunds are a set keyed by their
id), so the history comes out the same whatever order the facts arrive in. That is what
makes out-of-order order and payment messages, and merges of two customers who were in
the same order, safe.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.customer.profile import CustomerStatus, CustomerType


class OrderRole(StrEnum):
    BOOKER = "booker"
    ATTENDEE = "attendee"


class OrderStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


# Which status wins when two facts about one order meet: a completed order was paid for,
# so a late or stray cancellation never undoes it.
_ORDER_STATUS_RANK = {OrderStatus.OPEN: 0, OrderStatus.CANCELLED: 1, OrderStatus.COMPLETED: 2}


class PaymentStatus(StrEnum):
    FAILED = "failed"
    SUCCEEDED = "succeeded"


class OrderRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    roles: tuple[OrderRole, ...]
    # The customer credited with the purchase: the booker, or the first attendee.
    purchaser: bool
    placed_at: datetime
    total_amount_minor: int
    currency: str
    items_count: int = 0
    status: OrderStatus = OrderStatus.OPEN
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None


class RefundRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    refund_id: str
    amount_minor: int
    currency: str
    refunded_at: datetime


class PaymentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    order_id: str | None = None
    status: PaymentStatus
    amount_minor: int
    currency: str
    method: str | None = None
    # When it was paid, or when it failed.
    at: datetime
    failure_reason: str | None = None
    refunds: tuple[RefundRecord, ...] = ()


class CustomerSummary(BaseModel):
    """What the order service keeps of the customer an order was linked to."""

    model_config = ConfigDict(frozen=True)

    id: str
    business_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    type: CustomerType
    status: CustomerStatus


class PurchaseHistory(BaseModel):
    model_config = ConfigDict(frozen=True)

    orders: tuple[OrderRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()

    def order(self, order_id: str) -> OrderRecord | None:
        return next((order for order in self.orders if order.order_id == order_id), None)

    def payment(self, payment_id: str) -> PaymentRecord | None:
        return next((payment for payment in self.payments if payment.payment_id == payment_id), None)

    def with_orders(self, records: Iterable[OrderRecord]) -> "PurchaseHistory":
        by_id = {order.order_id: order for order in self.orders}
        for record in records:
            known = by_id.get(record.order_id)
            by_id[record.order_id] = _merged_order(known, record) if known else record
        orders = tuple(sorted(by_id.values(), key=lambda order: (order.placed_at, order.order_id)))
        return self.model_copy(update={"orders": orders})

    def with_payments(self, records: Iterable[PaymentRecord]) -> "PurchaseHistory":
        by_id = {payment.payment_id: payment for payment in self.payments}
        for record in records:
            known = by_id.get(record.payment_id)
            by_id[record.payment_id] = _merged_payment(known, record) if known else record
        payments = tuple(sorted(by_id.values(), key=lambda payment: (payment.at, payment.payment_id)))
        return self.model_copy(update={"payments": payments})

    def merged_with(self, other: "PurchaseHistory") -> "PurchaseHistory":
        return self.with_orders(other.orders).with_payments(other.payments)


def _merged_order(first: OrderRecord, second: OrderRecord) -> OrderRecord:
    # The further status wins; at the same status, a fixed choice keeps the merge commutative.
    outcome = max((first, second), key=lambda order: (_ORDER_STATUS_RANK[order.status], order.model_dump_json()))
    return outcome.model_copy(
        update={
            "roles": tuple(sorted(set(first.roles) | set(second.roles))),
            "purchaser": first.purchaser or second.purchaser,
            "placed_at": min(first.placed_at, second.placed_at),
        }
    )


def _merged_payment(first: PaymentRecord, second: PaymentRecord) -> PaymentRecord:
    # A succeeded attempt wins over a failed one; at equal status the earlier one stays.
    winner = min((first, second), key=lambda payment: (payment.status != PaymentStatus.SUCCEEDED, payment.at))
    refunds = {refund.refund_id: refund for refund in (*first.refunds, *second.refunds)}
    return winner.model_copy(
        update={"refunds": tuple(sorted(refunds.values(), key=lambda refund: (refund.refunded_at, refund.refund_id)))}
    )
