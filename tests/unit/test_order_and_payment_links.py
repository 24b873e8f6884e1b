"""Any order of arrival of an order's and a payment's messages, duplicates included, gives
the customer the same purchases and metrics, and replaying its events gives the same state."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.purchases import OrderRole, PaymentStatus
from domain.integration.events import (
    OrderCancellationRecorded,
    OrderCompletionRecorded,
    OrderPlacementRecorded,
    Participant,
    PaymentOutcomeRecorded,
    PaymentRefundRecorded,
)
from domain.integration.links import OrderLink, PaymentLink

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MESSAGES = ["placed", "completed", "cancelled", "paid", "payment_failed", "refund_1", "refund_2"]


def _customer() -> Customer:
    customer = Customer.register(
        customer_id="cus_1", business_id="biz", profile=ProfileInput(email="a@example.com"), default_region="PT", now=T0
    )
    customer.pending_events.clear()
    return customer


def _facts(now: datetime) -> dict:
    participant = Participant(customer_id="cus_1", roles=(OrderRole.BOOKER, OrderRole.ATTENDEE))
    outcome = dict(
        occurred_at=now,
        payment_id="pay_1",
        payer_id="cus_1",
        order_id="ord_1",
        amount_minor=4500,
        currency="EUR",
        at=T0,
    )
    return {
        "placed": OrderPlacementRecorded(
            occurred_at=now,
            order_id="ord_1",
            placed_at=T0,
            participants=(participant,),
            purchaser_id="cus_1",
            total_amount_minor=4500,
            currency="EUR",
            items_count=2,
        ),
        "completed": OrderCompletionRecorded(
            occurred_at=now,
            completed_at=T0 + timedelta(hours=1),
            total_amount_minor=4800,
            currency="EUR",
            items_count=3,
        ),
        "cancelled": OrderCancellationRecorded(occurred_at=now, cancelled_at=T0, reason="customer_request"),
        "paid": PaymentOutcomeRecorded(status=PaymentStatus.SUCCEEDED, method="card", **outcome),
        "payment_failed": PaymentOutcomeRecorded(
            status=PaymentStatus.FAILED, failure_reason="card_declined", **outcome
        ),
        "refund_1": PaymentRefundRecorded(
            occurred_at=now, refund_id="rf_1", amount_minor=1500, currency="EUR", refunded_at=T0 + timedelta(days=1)
        ),
        "refund_2": PaymentRefundRecorded(
            occurred_at=now, refund_id="rf_2", amount_minor=1000, currency="EUR", refunded_at=T0 + timedelta(days=2)
        ),
    }


def deliver(messages: list[str]) -> Customer:
    customer, order, payment = _customer(), OrderLink("order:biz:ord_1"), PaymentLink("payment:biz:pay_1")
    for step, name in enumerate(messages):
        now = T0 + timedelta(minutes=step)
        fact = _facts(now)[name]
        match fact:
            case OrderPlacementRecorded():
                order.record_placement(fact)
            case OrderCompletionRecorded():
                order.record_completion(fact)
            case OrderCancellationRecorded():
                order.record_cancellation(fact)
            case PaymentOutcomeRecorded():
                payment.record_outcome(fact)
            case PaymentRefundRecorded():
                payment.record_refund(fact)
        if order.placement is not None:
            order.update_participant(customer, order.placement.participants[0], now)
        payment.update_payer(customer, "cus_1", now)
    return customer


IN_ORDER = deliver(MESSAGES)


def test_in_order_the_completed_order_is_one_purchase_net_of_two_refunds():
    metrics = IN_ORDER.state.metrics
    assert (metrics.total_purchases, metrics.open_orders) == (1, 0)
    spend = metrics.spend["EUR"]
    assert (spend.total_minor, spend.refunded_minor, spend.lifetime_value_minor) == (4800, 2500, 2300)
    [payment] = IN_ORDER.state.purchases.payments
    assert payment.status == PaymentStatus.SUCCEEDED and len(payment.refunds) == 2


def test_a_completion_waits_for_its_placement():
    waiting = deliver(["completed"])
    assert waiting.state.purchases.orders == () and waiting.pending_events == []
    assert deliver(["completed", "placed"]).state.metrics.total_purchases == 1


@settings(max_examples=200, deadline=None)
@given(st.permutations(MESSAGES + ["placed", "refund_1", "completed"]))
def test_any_arrival_order_with_duplicates_gives_the_same_purchases_and_metrics(messages):
    customer = deliver(list(messages))
    assert customer.state.purchases == IN_ORDER.state.purchases
    assert customer.state.metrics == IN_ORDER.state.metrics
    replayed = Customer.from_history("cus_1", [*_customer_registration(), *customer.pending_events])
    assert replayed.state.purchases == customer.state.purchases


def _customer_registration():
    customer = Customer.register(
        customer_id="cus_1", business_id="biz", profile=ProfileInput(email="a@example.com"), default_region="PT", now=T0
    )
    return customer.pending_events
