"""A customer's purchase history is kept outside its state's byte budget (a record per
order and payment), so orders never make a customer too large; what still grows in one
document is bounded: one payment's refunds, and the history a merge's event carries. A
customer loaded without its history refuses what needs it."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.customer.aggregate import Customer, HistoryNotAtHand, ProfileInput
from domain.customer.purchases import OrderRecord, OrderRole, PaymentStatus, PurchaseHistory
from domain.customer.size_budget import (
    CUSTOMER_BYTE_BUDGET,
    MERGED_HISTORY_BYTE_BUDGET,
    PAYMENT_BYTE_BUDGET,
    CustomerTooLarge,
    byte_size,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def registered(customer_id: str = "cus_1", orders: int = 0) -> Customer:
    customer = Customer.register(
        customer_id=customer_id,
        business_id="biz_1",
        profile=ProfileInput(first_name="Ana", email=f"{customer_id}@example.com"),
        default_region="PT",
        now=NOW,
    )
    history = PurchaseHistory().with_orders(
        OrderRecord(
            order_id=f"ord_{number:06d}",
            roles=(OrderRole.BOOKER,),
            purchaser=True,
            placed_at=NOW - timedelta(minutes=number),
            total_amount_minor=1000,
            currency="EUR",
        )
        for number in range(orders)
    )
    return Customer.from_state(customer.state.model_copy(update={"purchases": history}))


def link(customer: Customer, order_id: str) -> None:
    customer.link_order(
        order_id=order_id,
        roles=(OrderRole.BOOKER,),
        purchaser=True,
        placed_at=NOW,
        total_amount_minor=2500,
        currency="EUR",
        items_count=1,
        now=NOW,
    )


def test_orders_never_make_a_customer_too_large():
    # 30,000 orders: about 7 MB of history, three times the state's budget.
    customer = registered(orders=30_000)
    assert len(customer.state.purchases.model_dump_json()) > 3 * CUSTOMER_BYTE_BUDGET
    assert byte_size(customer.state) < 10_000

    link(customer, "ord_new")

    assert [type(event).__name__ for event in customer.pending_events] == ["OrderLinked"]
    assert len(customer.state.purchases.orders) == 30_001


def test_refunds_of_one_payment_stop_at_its_budget_with_nothing_applied():
    customer = registered()
    customer.link_payment(
        payment_id="pay_1",
        order_id=None,
        status=PaymentStatus.SUCCEEDED,
        amount_minor=100,
        currency="EUR",
        method="card",
        at=NOW,
        failure_reason=None,
        now=NOW,
    )
    with pytest.raises(CustomerTooLarge) as refused:
        for number in range(PAYMENT_BYTE_BUDGET):
            customer.record_refund(
                payment_id="pay_1",
                refund_id=f"ref_{number}",
                amount_minor=1,
                currency="EUR",
                refunded_at=NOW,
                now=NOW,
            )
    assert refused.value.budget_bytes == PAYMENT_BYTE_BUDGET
    kept = customer.state.purchases.payment("pay_1")
    assert kept is not None and len(kept.model_dump_json()) <= PAYMENT_BYTE_BUDGET
    assert len(customer.pending_events) == 1 + number  # the payment, and the refunds before


def test_a_merge_refuses_a_history_too_big_for_its_event_and_changes_nothing():
    target = registered("cus_target")
    source = registered("cus_source", orders=20_000)
    assert len(source.state.purchases.model_dump_json()) > MERGED_HISTORY_BYTE_BUDGET

    with pytest.raises(CustomerTooLarge) as refused:
        target.absorb(source, NOW)

    assert refused.value.budget_bytes == MERGED_HISTORY_BYTE_BUDGET
    assert "merge the other way round" in str(refused.value)
    assert target.pending_events == [] and source.pending_events == []
    # The other way round, the big history stays where it is: accepted.
    source.absorb(target, NOW)
    assert source.state.merged_into is None and target.state.merged_into == source.id


def test_a_customer_loaded_without_its_history_refuses_purchase_facts_and_merges():
    full = registered(orders=3)
    without = Customer.from_state(full.state.model_copy(update={"purchases": PurchaseHistory()}), history_at_hand=False)
    with pytest.raises(HistoryNotAtHand):
        link(without, "ord_new")
    with pytest.raises(HistoryNotAtHand):
        without.record_refund(
            payment_id="pay_1", refund_id="ref_1", amount_minor=1, currency="EUR", refunded_at=NOW, now=NOW
        )
    with pytest.raises(HistoryNotAtHand):
        registered("cus_2").absorb(without, NOW)
    assert without.pending_events == []
    # What needs no history goes on as ever.
    without.update_profile({"last_name": "Silva"}, "PT", NOW)
    assert without.state.last_name == "Silva"
