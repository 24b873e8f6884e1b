from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.events import CustomerRegistered
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType
from domain.errors import InvalidCustomerData

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def register(**profile) -> Customer:
    return Customer.register(
        customer_id="cus_1", business_id="biz_1", profile=ProfileInput(**profile), default_region="PT", now=NOW
    )


def test_registering_records_one_event_and_starts_at_version_one():
    customer = register(first_name="Ana", email="ana@example.com")
    assert [type(event) for event in customer.pending_events] == [CustomerRegistered]
    assert customer.version == 1
    assert customer.state.status == CustomerStatus.ACTIVE
    assert customer.state.created_at == NOW


def test_a_customer_needs_a_name_an_email_or_a_phone():
    with pytest.raises(InvalidCustomerData) as raised:
        register(first_name="   ", tags=("x",))
    assert raised.value.errors[0].field == "first_name"


def test_an_invalid_email_is_refused_with_its_field():
    with pytest.raises(InvalidCustomerData) as raised:
        register(email="ana-at-example.com")
    assert [error.field for error in raised.value.errors] == ["email"]


def test_the_email_is_kept_as_given_but_trimmed():
    assert register(email="  Ana.Silva@Example.com ").state.email == "Ana.Silva@Example.com"


@pytest.mark.parametrize(
    "given_phone",
    ["912 345 678", "+351 912 345 678", "00351912345678", "(+351) 912-345-678"],
)
def test_phones_in_any_human_format_are_stored_in_e164(given_phone):
    assert register(phone=given_phone).state.phone == "+351912345678"


def test_an_invalid_phone_is_refused():
    with pytest.raises(InvalidCustomerData) as raised:
        register(phone="12")
    assert raised.value.errors[0].field == "phone"


def test_names_are_trimmed_and_inner_spaces_collapsed():
    state = register(first_name="  Ana   Maria ", last_name=" Silva").state
    assert (state.first_name, state.last_name) == ("Ana Maria", "Silva")


def test_an_overlong_name_is_refused():
    with pytest.raises(InvalidCustomerData):
        register(first_name="a" * 101)


def test_a_customer_without_email_or_phone_is_anonymous_and_others_new():
    assert register(first_name="Rui").state.type == CustomerType.ANONYMOUS
    assert register(phone="912345678").state.type == CustomerType.NEW


def test_an_explicit_type_and_segment_are_kept():
    state = register(first_name="Rui", email="r@example.com", type="regular", segment="vip").state
    assert (state.type, state.segment) == (CustomerType.REGULAR, CustomerSegment.VIP)


def test_tags_are_trimmed_and_deduplicated_in_order():
    assert register(first_name="Rui", tags=(" b ", "a", "b", "")).state.tags == ("b", "a")


def test_replaying_the_history_gives_the_same_state():
    customer = register(first_name="Ana", email="ana@example.com", phone="912345678")
    replayed = Customer.from_history("cus_1", customer.pending_events)
    assert replayed.state == customer.state
    assert replayed.pending_events == []


@given(st.text(max_size=60))
def test_registration_either_succeeds_with_a_trimmed_name_or_explains_why(name):
    try:
        state = register(first_name=name).state
    except InvalidCustomerData as error:
        assert error.errors
    else:
        assert state.first_name == " ".join(name.split())
        assert state.first_name


@given(st.from_regex(r"\+3519[1236][0-9]{7}", fullmatch=True))
def test_normalizing_a_normalized_phone_changes_nothing(phone):
    assert register(phone=phone).state.phone == phone
