from datetime import UTC, datetime, timedelta

import pytest

from domain.customer.frequency import frequency_tier, is_repeat_customer
from domain.customer.metrics import purchase_metrics
from domain.customer.purchases import (
    OrderRecord,
    OrderRole,
    OrderStatus,
    PaymentRecord,
    PaymentStatus,
    PurchaseHistory,
    RefundRecord,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def order(
    order_id: str,
    amount: int,
    currency: str = "EUR",
    status: OrderStatus = OrderStatus.COMPLETED,
    purchaser: bool = True,
    day: int = 0,
    items: int = 0,
) -> OrderRecord:
    return OrderRecord(
        order_id=order_id,
        roles=(OrderRole.BOOKER,),
        purchaser=purchaser,
        placed_at=T0 + timedelta(days=day),
        total_amount_minor=amount,
        currency=currency,
        items_count=items,
        status=status,
        completed_at=T0 + timedelta(days=day, hours=1) if status == OrderStatus.COMPLETED else None,
    )


@pytest.mark.parametrize(
    ("purchases", "tier"),
    [
        (0, "none"),
        (1, "one_time"),
        (2, "occasional"),
        (3, "occasional"),
        (4, "regular"),
        (9, "regular"),
        (10, "frequent"),
        (250, "frequent"),
    ],
)
def test_frequency_tiers_follow_the_contract_boundaries(purchases, tier):
    assert frequency_tier(purchases) == tier
    assert is_repeat_customer(purchases) == (purchases >= 2)


def test_only_completed_orders_credited_to_the_customer_are_purchases():
    history = PurchaseHistory(
        orders=(
            order("o1", 1000, day=0),
            order("o2", 5000, purchaser=False, day=1),  # an attendee: not credited
            order("o3", 7000, status=OrderStatus.CANCELLED, day=2),
            order("o4", 2000, status=OrderStatus.OPEN, day=3),
        )
    )
    metrics = purchase_metrics(history)
    assert (metrics.total_purchases, metrics.open_orders, metrics.is_repeat_customer) == (1, 1, False)
    assert metrics.spend["EUR"].total_minor == 1000
    assert metrics.first_purchase_at == metrics.last_purchase_at == T0 + timedelta(hours=1)


def test_money_is_kept_per_currency_and_the_average_rounds_down():
    history = PurchaseHistory(orders=(order("o1", 1000), order("o2", 1001, day=1), order("o3", 999, "USD", day=2)))
    metrics = purchase_metrics(history)
    assert metrics.spend["EUR"].average_minor == 1000  # 2001 // 2
    assert metrics.spend["USD"].total_minor == 999
    assert (metrics.total_purchases, metrics.is_repeat_customer, metrics.frequency_tier) == (3, True, "occasional")
    assert metrics.last_purchase_at == T0 + timedelta(days=2, hours=1)


def test_refunds_lower_the_lifetime_value_of_their_own_currency():
    payment = PaymentRecord(
        payment_id="p1",
        status=PaymentStatus.SUCCEEDED,
        amount_minor=4500,
        currency="EUR",
        at=T0,
        refunds=(
            RefundRecord(refund_id="r1", amount_minor=1500, currency="EUR", refunded_at=T0),
            RefundRecord(refund_id="r2", amount_minor=1000, currency="EUR", refunded_at=T0),
        ),
    )
    metrics = purchase_metrics(PurchaseHistory(orders=(order("o1", 4500),), payments=(payment,)))
    spend = metrics.spend["EUR"]
    assert (spend.total_minor, spend.refunded_minor, spend.average_minor, spend.lifetime_value_minor) == (
        4500,
        2500,
        4500,
        2000,
    )


def test_total_items_sums_the_items_of_completed_purchases_only():
    history = PurchaseHistory(
        orders=(
            order("o1", 1000, items=2, day=0),
            order("o2", 1000, "USD", items=3, day=1),
            order("o3", 5000, purchaser=False, items=7, day=2),  # an attendee: not credited
            order("o4", 7000, status=OrderStatus.CANCELLED, items=11, day=3),
            order("o5", 2000, status=OrderStatus.OPEN, items=13, day=4),
        )
    )
    assert purchase_metrics(history).total_items == 5
    assert purchase_metrics(PurchaseHistory()).total_items == 0
