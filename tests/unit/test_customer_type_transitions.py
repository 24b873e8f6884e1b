"""The type moves by itself (contract v1.1), each move an event: `domain.customer.type_transitions`."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.events import CustomerProfileUpdated, CustomerTypeChanged
from domain.customer.profile import CustomerType
from domain.customer.purchases import OrderRole

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def registered(**profile) -> Customer:
    customer = Customer.register(
        customer_id="cus_1", business_id="biz_1", profile=ProfileInput(**profile), default_region="PT", now=NOW
    )
    customer.pending_events.clear()
    return customer


def from_order(**contact) -> Customer:
    customer = Customer.register_from_order(
        customer_id="cus_1", business_id="biz_1", contact=contact, default_region="PT", now=NOW
    )
    customer.pending_events.clear()
    return customer


def buy(customer: Customer, order_id: str = "ord_1", *, purchaser: bool = True, complete: bool = True) -> None:
    customer.link_order(
        order_id=order_id,
        roles=(OrderRole.BOOKER,) if purchaser else (OrderRole.ATTENDEE,),
        purchaser=purchaser,
        placed_at=NOW,
        total_amount_minor=1000,
        currency="EUR",
        items_count=2,
        now=LATER,
    )
    if complete:
        customer.complete_order(
            order_id=order_id, completed_at=LATER, total_amount_minor=1000, currency="EUR", items_count=2, now=LATER
        )


def type_moves(customer: Customer) -> list[tuple[str, str, str]]:
    return [
        (event.from_type, event.to_type, event.reason)
        for event in customer.pending_events
        if isinstance(event, CustomerTypeChanged)
    ]


def test_a_new_customer_becomes_regular_with_its_first_completed_purchase_as_an_event():
    customer = registered(first_name="Ana", email="ana@example.com")
    assert customer.state.type == CustomerType.NEW
    buy(customer)
    assert customer.state.type == CustomerType.REGULAR
    assert type_moves(customer) == [("new", "regular", "first_purchase")]


def test_replaying_the_events_gives_the_moved_type():
    customer = Customer.register(
        customer_id="cus_1",
        business_id="biz_1",
        profile=ProfileInput(email="ana@example.com"),
        default_region="PT",
        now=NOW,
    )
    buy(customer)
    assert Customer.from_history("cus_1", customer.pending_events).state == customer.state
    assert customer.state.type == CustomerType.REGULAR


def test_an_open_or_cancelled_order_or_one_credited_to_someone_else_moves_nothing():
    customer = registered(first_name="Ana", email="ana@example.com")
    buy(customer, "ord_1", complete=False)
    customer.cancel_order(order_id="ord_1", cancelled_at=LATER, reason=None, now=LATER)
    buy(customer, "ord_2", purchaser=False)
    assert customer.state.type == CustomerType.NEW
    assert type_moves(customer) == []


def test_a_second_purchase_moves_nothing_more():
    customer = registered(first_name="Ana", email="ana@example.com")
    buy(customer, "ord_1")
    buy(customer, "ord_2")
    assert type_moves(customer) == [("new", "regular", "first_purchase")]


def test_an_unregistered_customer_buying_stays_unregistered():
    customer = from_order(first_name="Rui", email="rui@example.com")
    assert customer.state.type == CustomerType.UNREGISTERED
    buy(customer)
    assert customer.state.type == CustomerType.UNREGISTERED


def test_staff_completing_an_unregistered_customer_with_an_email_or_phone_make_it_regular():
    patched = from_order(first_name="Rui", phone="912345678")
    patched.update_profile({"email": "rui@example.com"}, "PT", LATER)
    first, second = patched.pending_events
    assert isinstance(first, CustomerProfileUpdated) and "type" not in first.changes
    assert type_moves(patched) == [("unregistered", "regular", "completed_by_staff")]

    replaced = from_order(first_name="Rui", email="rui@example.com")
    replaced.replace_profile(ProfileInput(first_name="Rui", last_name="Costa", email="rui@example.com"), "PT", LATER)
    assert replaced.state.type == CustomerType.REGULAR


def test_a_staff_change_without_contact_or_with_a_type_asked_for_is_not_a_completion():
    renamed = from_order(first_name="Rui", email="rui@example.com")
    renamed.update_profile({"last_name": "Costa"}, "PT", LATER)
    assert renamed.state.type == CustomerType.UNREGISTERED

    asked = from_order(first_name="Rui", email="rui@example.com")
    asked.update_profile({"phone": "912345678", "type": "unregistered"}, "PT", LATER)
    assert asked.state.type == CustomerType.UNREGISTERED
    assert type_moves(asked) == []


def test_contact_taken_from_an_order_does_not_complete_an_unregistered_customer():
    customer = from_order(first_name="Rui", email="rui@example.com")
    customer.add_missing_contact({"phone": "912345678"}, "PT", LATER)
    assert customer.state.phone == "+351912345678"
    assert customer.state.type == CustomerType.UNREGISTERED


def test_an_anonymous_customer_stays_anonymous_until_a_contact_is_added():
    customer = from_order(first_name="Rui")
    assert customer.state.type == CustomerType.ANONYMOUS
    buy(customer)
    customer.update_profile({"last_name": "Costa"}, "PT", LATER)
    assert customer.state.type == CustomerType.ANONYMOUS
    assert type_moves(customer) == []


def test_an_anonymous_buyer_who_gains_a_contact_becomes_new_then_regular():
    customer = from_order(first_name="Rui")
    buy(customer)
    customer.add_missing_contact({"email": "rui@example.com"}, "PT", LATER)
    assert type_moves(customer) == [("anonymous", "new", "contact_added"), ("new", "regular", "first_purchase")]
    assert customer.state.type == CustomerType.REGULAR


def test_losing_the_last_contact_is_a_move_to_anonymous():
    customer = registered(first_name="Ana", email="ana@example.com", type="regular")
    customer.update_profile({"email": None}, "PT", LATER)
    profile_change, move = customer.pending_events
    assert isinstance(profile_change, CustomerProfileUpdated) and profile_change.changes == {"email": None}
    assert isinstance(move, CustomerTypeChanged) and (move.from_type, move.to_type) == ("regular", "anonymous")


def test_a_deleted_customer_moves_when_restored():
    customer = registered(first_name="Ana", email="ana@example.com")
    buy(customer, complete=False)
    customer.cancel_order(order_id="ord_1", cancelled_at=LATER, reason=None, now=LATER)
    customer.delete(LATER)
    buy(customer, "ord_2")
    assert customer.state.type == CustomerType.NEW
    customer.restore(LATER)
    assert customer.state.type == CustomerType.REGULAR


def test_a_merge_that_brings_a_purchase_makes_a_new_target_regular():
    target = registered(first_name="Ana", email="ana@example.com")
    source = Customer.register(
        customer_id="cus_2", business_id="biz_1", profile=ProfileInput(first_name="Ana"), default_region="PT", now=NOW
    )
    buy(source)
    target.absorb(source, LATER)
    assert target.state.type == CustomerType.REGULAR
    assert type_moves(target) == [("new", "regular", "first_purchase")]
