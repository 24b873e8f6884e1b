"""The state at a moment, folded from the events (`application.queries.customer_as_of`)."""

from datetime import UTC, datetime, timedelta

import pytest

from application.queries.customer_as_of import state_as_of
from domain.customer.aggregate import Customer, ProfileInput

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def events(erase: bool = False) -> list:
    customer = Customer.register(
        customer_id="cus_1", business_id="biz_1", profile=ProfileInput(first_name="Ana"), default_region="PT", now=T0
    )
    customer.update_profile({"last_name": "Silva"}, "PT", T0 + timedelta(hours=1))
    if erase:
        customer.erase(T0 + timedelta(hours=2))
    return customer.pending_events


def test_the_state_holds_the_events_up_to_the_moment():
    assert state_as_of(events(), "cus_1", T0 - timedelta(microseconds=1)) is None
    at_registration = state_as_of(events(), "cus_1", T0)
    assert (at_registration.version, at_registration.last_name) == (1, None)
    later = state_as_of(events(), "cus_1", T0 + timedelta(days=1))
    assert (later.version, later.last_name) == (2, "Silva")


def test_an_erased_customers_past_holds_no_personal_data():
    past = state_as_of(events(erase=True), "cus_1", T0 + timedelta(hours=1))
    assert (past.status, past.version, past.first_name, past.last_name) == ("active", 2, None, None)
