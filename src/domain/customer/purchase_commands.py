"""What orders and payments do to a customer: the commands, and how their events change
the purchase history. Mixed into `Customer`, which keeps the one `apply`.

Every command is idempotent (a fact already known triggers nothing), and the history
merges facts commutatively, so redeliveries and out-of-order arrival change nothing.
Purchase facts are recorded on an active or a deleted customer (they happened); a merged
customer has handed its history to its target, which the caller must address instead.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from domain.customer.events import (
    CustomerEvent,
    OrderCancelled,
    OrderCompleted,
    OrderLinked,
    PaymentLinked,
    PaymentRefunded,
)
from domain.customer.profile import CustomerStatus
from domain.customer.purchases import (
    CustomerSummary,
    OrderRecord,
    OrderRole,
    OrderStatus,
    PaymentRecord,
    PaymentStatus,
    PurchaseHistory,
    RefundRecord,
)
from domain.errors import CustomerNotActive

if TYPE_CHECKING:
    from domain.customer.aggregate import CustomerState


class CustomerPurchases:
    id: str
    state: "CustomerState"

    def _trigger(self, event: CustomerEvent) -> None:  # provided by Customer
        raise NotImplementedError

    def add_missing_contact(self, contact: Mapping[str, str], default_region: str, now: datetime) -> None:
        """Takes the names, email and phone it lacks from an order; never overwrites one."""
        missing = {field: value for field, value in contact.items() if getattr(self.state, field) is None}
        if missing and self.state.status == CustomerStatus.ACTIVE:
            self.update_profile(missing, default_region, now)  # type: ignore[attr-defined]

    def link_order(
        self, *, order_id: str, roles: tuple[OrderRole, ...], purchaser: bool, placed_at: datetime,
        total_amount_minor: int, currency: str, items_count: int, now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is not None and set(roles) <= set(known.roles) and (known.purchaser or not purchaser):
            return
        self._trigger(
            OrderLinked(
                occurred_at=now, order_id=order_id, roles=tuple(sorted(set(roles))), purchaser=purchaser,
                first_time=not any(order.order_id != order_id for order in self.state.purchases.orders),
                placed_at=placed_at, total_amount_minor=total_amount_minor, currency=currency,
                items_count=items_count, customer_snapshot=self.summary(),
            )
        )

    def complete_order(
        self, *, order_id: str, completed_at: datetime, total_amount_minor: int, currency: str, items_count: int,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is None or known.status == OrderStatus.COMPLETED:
            return
        self._trigger(
            OrderCompleted(occurred_at=now, order_id=order_id, completed_at=completed_at,
                           total_amount_minor=total_amount_minor, currency=currency, items_count=items_count)
        )

    def cancel_order(self, *, order_id: str, cancelled_at: datetime, reason: str | None, now: datetime) -> None:
        self._require_history_open()
        known = self.state.purchases.order(order_id)
        if known is None or known.status != OrderStatus.OPEN:
            return
        self._trigger(OrderCancelled(occurred_at=now, order_id=order_id, cancelled_at=cancelled_at, reason=reason))

    def link_payment(
        self, *, payment_id: str, order_id: str | None, status: PaymentStatus, amount_minor: int, currency: str,
        method: str | None, at: datetime, failure_reason: str | None, now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.payment(payment_id)
        if known is not None and (known.status == status or known.status == PaymentStatus.SUCCEEDED):
            return
        self._trigger(
            PaymentLinked(occurred_at=now, payment_id=payment_id, order_id=order_id, status=status,
                          amount_minor=amount_minor, currency=currency, method=method, at=at,
                          failure_reason=failure_reason)
        )

    def record_refund(
        self, *, payment_id: str, refund_id: str, amount_minor: int, currency: str, refunded_at: datetime,
        now: datetime,
    ) -> None:
        self._require_history_open()
        known = self.state.purchases.payment(payment_id)
        if known is None or any(refund.refund_id == refund_id for refund in known.refunds):
            return
        self._trigger(
            PaymentRefunded(occurred_at=now, payment_id=payment_id, refund_id=refund_id, amount_minor=amount_minor,
                            currency=currency, refunded_at=refunded_at)
        )

    @property
    def history_open(self) -> bool:
        """Whether purchase facts may still be recorded (not merged away, not erased)."""
        return self.state.status in (CustomerStatus.ACTIVE, CustomerStatus.DELETED)

    def summary(self) -> CustomerSummary:
        state = self.state
        return CustomerSummary(id=state.id, business_id=state.business_id, first_name=state.first_name,
                               last_name=state.last_name, email=state.email, phone=state.phone, type=state.type,
                               status=state.status)

    def _require_history_open(self) -> None:
        if not self.history_open:
            raise CustomerNotActive(self.id, self.state.status, "given purchases")


def purchases_after(history: PurchaseHistory, event: CustomerEvent) -> PurchaseHistory | None:
    """The history once `event` is applied, or None if the event is not about purchases."""
    match event:
        case OrderLinked():
            return history.with_orders([
                OrderRecord(order_id=event.order_id, roles=event.roles, purchaser=event.purchaser,
                            placed_at=event.placed_at, total_amount_minor=event.total_amount_minor,
                            currency=event.currency, items_count=event.items_count)
            ])
        case OrderCompleted():
            known = _known_order(history, event.order_id)
            return history.with_orders([
                # A completed order was not cancelled, whatever arrived before.
                known.model_copy(update={"status": OrderStatus.COMPLETED, "completed_at": event.completed_at,
                                         "cancelled_at": None, "cancel_reason": None,
                                         "total_amount_minor": event.total_amount_minor, "currency": event.currency,
                                         "items_count": event.items_count})
            ])
        case OrderCancelled():
            known = _known_order(history, event.order_id)
            return history.with_orders([
                known.model_copy(update={"status": OrderStatus.CANCELLED, "cancelled_at": event.cancelled_at,
                                         "cancel_reason": event.reason})
            ])
        case PaymentLinked():
            return history.with_payments([
                PaymentRecord(payment_id=event.payment_id, order_id=event.order_id, status=event.status,
                              amount_minor=event.amount_minor, currency=event.currency, method=event.method,
                              at=event.at, failure_reason=event.failure_reason)
            ])
        case PaymentRefunded():
            known_payment = history.payment(event.payment_id)
            if known_payment is None:
                raise ValueError(f"refund of unknown payment {event.payment_id}")
            refund = RefundRecord(refund_id=event.refund_id, amount_minor=event.amount_minor,
                                  currency=event.currency, refunded_at=event.refunded_at)
            return history.with_payments([known_payment.model_copy(update={"refunds": (refund,)})])
    return None


def _known_order(history: PurchaseHistory, order_id: str) -> OrderRecord:
    known = history.order(order_id)
    if known is None:
        raise ValueError(f"order {order_id} was never linked")
    return known
