from datetime import UTC, datetime, timedelta

import pytest

from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.events import CustomerMerged, CustomerMergedInto, CustomerProfileUpdated, NoteAdded
from domain.customer.metrics import PurchaseMetrics
from domain.customer.notes import NoteType
from domain.customer.profile import CustomerStatus, CustomerType
from domain.errors import CustomerNotActive, HasOpenOrders, InvalidCustomerData, InvalidMerge

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def registered(customer_id="cus_1", business_id="biz_1", **profile) -> Customer:
    customer = Customer.register(
        customer_id=customer_id, business_id=business_id, profile=ProfileInput(**profile), default_region="PT", now=NOW
    )
    customer.pending_events.clear()
    return customer


def test_a_partial_update_records_only_the_fields_that_changed():
    customer = registered(first_name="Ana", email="ana@example.com")
    customer.update_profile({"last_name": "Silva", "first_name": "Ana"}, "PT", LATER)
    [event] = customer.pending_events
    assert isinstance(event, CustomerProfileUpdated)
    assert event.changes == {"last_name": "Silva"}
    assert customer.state.updated_at == LATER


def test_an_update_that_changes_nothing_records_nothing():
    customer = registered(first_name="Ana")
    customer.update_profile({"first_name": "  Ana "}, "PT", LATER)
    assert customer.pending_events == []
    assert customer.version == 1


def test_null_clears_a_field_but_never_the_last_contact_field():
    customer = registered(first_name="Ana", email="ana@example.com")
    customer.update_profile({"email": None}, "PT", LATER)
    assert customer.state.email is None
    with pytest.raises(InvalidCustomerData):
        customer.update_profile({"first_name": None}, "PT", LATER)


def test_attributes_are_merged_and_a_null_removes_a_key():
    customer = registered(first_name="Ana", attributes={"a": 1, "b": "x"})
    customer.update_profile({"attributes": {"b": None, "c": True}}, "PT", LATER)
    assert customer.state.attributes == {"a": 1, "c": True}


def test_a_replace_resets_what_it_does_not_name():
    customer = registered(first_name="Ana", last_name="Silva", tags=("vip",), segment="vip")
    customer.replace_profile(ProfileInput(first_name="Ana"), "PT", LATER)
    state = customer.state
    assert (state.last_name, state.tags, state.segment) == (None, (), "walk_in")


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"Bad-Key": 1}, "attributes.Bad-Key"),
        ({"k": "x" * 201}, "attributes.k"),
        ({f"k{i}": i for i in range(21)}, "attributes"),
    ],
)
def test_attributes_have_limits(attributes, field):
    with pytest.raises(InvalidCustomerData) as raised:
        registered(first_name="Ana", attributes=attributes)
    assert field in [error.field for error in raised.value.errors]


def test_losing_every_contact_makes_a_customer_anonymous_and_gaining_one_makes_it_new():
    customer = registered(first_name="Ana", email="ana@example.com", type="regular")
    customer.update_profile({"email": None}, "PT", LATER)
    assert customer.state.type == CustomerType.ANONYMOUS
    customer.update_profile({"phone": "912345678"}, "PT", LATER)
    assert customer.state.type == CustomerType.NEW


def test_anonymous_with_contact_data_and_regular_without_are_refused():
    with pytest.raises(InvalidCustomerData):
        registered(first_name="Ana", email="ana@example.com", type="anonymous")
    with pytest.raises(InvalidCustomerData):
        registered(first_name="Ana", type="regular")


def test_a_deleted_customer_cannot_change_until_restored():
    customer = registered(first_name="Ana")
    customer.delete(LATER)
    assert customer.state.status == CustomerStatus.DELETED
    assert customer.state.deleted_at == LATER
    with pytest.raises(CustomerNotActive):
        customer.update_profile({"first_name": "Bea"}, "PT", LATER)
    with pytest.raises(CustomerNotActive):
        customer.add_note("note_1", NoteType.PERSONAL, "hi", "u", LATER)
    customer.restore(LATER)
    customer.update_profile({"first_name": "Bea"}, "PT", LATER)
    assert (customer.state.status, customer.state.first_name, customer.state.deleted_at) == ("active", "Bea", None)


def test_only_a_deleted_customer_can_be_restored():
    with pytest.raises(CustomerNotActive):
        registered(first_name="Ana").restore(LATER)


def test_a_customer_with_open_orders_cannot_be_deleted():
    customer = registered(first_name="Ana")
    customer._state = customer.state.model_copy(update={"metrics": PurchaseMetrics(open_orders=2)})
    with pytest.raises(HasOpenOrders):
        customer.delete(LATER)


def test_a_deleted_customer_holds_no_contact_keys():
    customer = registered(first_name="Ana", email="Ana@Example.com", phone="912345678")
    assert customer.state.contact_keys() == {("email", "ana@example.com"), ("phone", "+351912345678")}
    customer.delete(LATER)
    assert customer.state.contact_keys() == frozenset()


def test_notes_are_trimmed_typed_and_authored():
    customer = registered(first_name="Ana")
    note = customer.add_note("note_1", NoteType.PREFERENCE, "  likes mornings ", "user_7", LATER)
    assert (note.content, note.author, note.type) == ("likes mornings", "user_7", "preference")
    assert [event.note for event in customer.pending_events if isinstance(event, NoteAdded)] == [note]
    # The state counts notes and keeps none: a customer may hold any number of them.
    assert customer.state.note_counts == {customer.id: 1}
    with pytest.raises(InvalidCustomerData):
        customer.add_note("note_2", NoteType.ISSUE, "   ", "user_7", LATER)


def test_a_merge_makes_the_target_show_the_notes_of_the_source_and_of_those_merged_into_it():
    target, source, earlier = (registered(id, first_name="Ana") for id in ("cus_t", "cus_s", "cus_e"))
    earlier.add_note("note_1", NoteType.PERSONAL, "first", "u", NOW)
    for number in range(2, 5):
        source.add_note(f"note_{number}", NoteType.PERSONAL, "more", "u", NOW)
    target.add_note("note_5", NoteType.PERSONAL, "own", "u", NOW)
    source.absorb(earlier, NOW)
    target.absorb(source, LATER)
    merged = [event for event in target.pending_events if isinstance(event, CustomerMerged)]
    assert merged[-1].note_counts == {"cus_s": 3, "cus_e": 1}
    assert target.state.note_counts == {"cus_t": 1, "cus_s": 3, "cus_e": 1}
    assert target.state.notes_count == 5


def test_a_version_1_merge_counts_the_notes_it_carried_as_the_source_s():
    payload = {
        "occurred_at": NOW.isoformat(),
        "source_customer_id": "cus_s",
        "taken": {},
        "notes": [{"id": "note_1"}, {"id": "note_2"}],
    }
    upcast = CustomerMerged.upcast_v1_v2(payload)
    assert CustomerMerged.model_validate(upcast).note_counts == {"cus_s": 2}
    assert CustomerMerged.upcast_v1_v2({**payload, "notes": []})["note_counts"] == {}


def test_preferences_change_in_part_and_channels_merge():
    customer = registered(first_name="Ana")
    customer.update_preferences({"contact_channels": {"sms": True}, "language": "pt"}, LATER)
    customer.update_preferences({"contact_channels": {"email": True}}, LATER)
    preferences = customer.state.preferences
    assert (preferences.contact_channels.sms, preferences.contact_channels.email, preferences.language) == (
        True,
        True,
        "pt",
    )


def test_consents_are_a_log_whose_latest_entry_wins():
    customer = registered(first_name="Ana")
    customer.record_consent("marketing_email", True, "signup_form", "consent", NOW)
    customer.record_consent("marketing_email", False, "unsubscribe_link", "consent", LATER)
    assert [entry.granted for entry in customer.state.consent_log] == [True, False]
    current = customer.state.consents["marketing_email"]
    assert (current.granted, current.source, current.at) == (False, "unsubscribe_link", LATER)


def test_a_merge_moves_missing_contact_notes_and_consents_and_closes_the_source():
    target = registered("cus_t", first_name="Ana", email="ana@example.com")
    source = registered("cus_s", first_name="Ana S.", last_name="Silva", phone="912345678", email="other@example.com")
    source.add_note("note_1", NoteType.PERSONAL, "from source", "u", NOW)
    source.record_consent("sms", True, "form", "consent", NOW)
    source.pending_events.clear()
    target.absorb(source, LATER)
    assert [type(event) for event in source.pending_events] == [CustomerMergedInto]
    assert [type(event) for event in target.pending_events] == [CustomerMerged]
    state = target.state
    # Missing fields are taken; present ones are kept.
    assert (state.first_name, state.last_name, state.phone, state.email) == (
        "Ana",
        "Silva",
        "+351912345678",
        "ana@example.com",
    )
    assert state.note_counts == {"cus_s": 1}
    assert state.consents["sms"].granted is True
    assert (source.state.status, source.state.merged_into) == (CustomerStatus.MERGED, "cus_t")
    with pytest.raises(CustomerNotActive):
        source.update_profile({"first_name": "X"}, "PT", LATER)


def test_a_customer_cannot_absorb_itself_or_another_business():
    customer = registered("cus_1", first_name="Ana")
    with pytest.raises(InvalidMerge):
        customer.absorb(customer, LATER)
    with pytest.raises(InvalidMerge):
        customer.absorb(registered("cus_2", business_id="biz_2", first_name="B"), LATER)


def test_every_command_replays_to_the_same_state():
    target = registered("cus_t", first_name="Ana")
    source = registered("cus_s", last_name="Silva", phone="912345678")
    target.update_profile({"email": "ana@example.com", "tags": ["a"]}, "PT", NOW)
    target.add_note("note_1", NoteType.ISSUE, "late", "u", NOW)
    target.update_preferences({"do_not_contact": True}, NOW)
    target.record_consent("marketing", True, None, None, NOW)
    target.delete(NOW)
    target.restore(NOW)
    target.absorb(source, NOW)
    rebuilt = registered("cus_t", first_name="Ana")
    for event in target.pending_events:
        rebuilt.apply(event)
    assert rebuilt.state == target.state


@pytest.mark.parametrize("purpose", ["Offers", "x" * 41, "", "a-b"])
def test_a_consent_purpose_off_the_pattern_is_refused_by_the_aggregate(purpose):
    customer = registered(first_name="Ana")
    with pytest.raises(InvalidCustomerData):
        customer.record_consent(purpose, True, None, None, LATER)
    customer.record_consent("loyalty", True, None, None, LATER)
    assert customer.state.consents["loyalty"].granted


def test_billing_is_cleaned_replaced_as_a_whole_and_erased():
    customer = registered(first_name="Ana")
    customer.update_profile(
        {"billing": {"name": "  Silva   Lda ", "tax_id": "PT123456789  ", "invoice_email": " f@example.com "}},
        "PT",
        LATER,
    )
    billing = customer.state.billing
    assert (billing.name, billing.tax_id, billing.invoice_email, billing.address) == (
        "Silva Lda",
        "PT123456789",
        "f@example.com",
        None,
    )
    customer.update_profile({"billing": {"name": "Outra"}}, "PT", LATER)
    assert customer.state.billing.tax_id is None
    with pytest.raises(InvalidCustomerData) as raised:
        customer.update_profile({"billing": {"invoice_email": "nope"}}, "PT", LATER)
    assert [error.field for error in raised.value.errors] == ["billing.invoice_email"]
    with pytest.raises(InvalidCustomerData) as raised:
        customer.update_profile({"billing": {"tax_id": "!"}}, "PT", LATER)
    assert [error.field for error in raised.value.errors] == ["billing.tax_id"]
    customer.erase(LATER)
    assert customer.state.billing is None


def test_a_merge_target_takes_the_billing_it_lacks_and_keeps_its_own():
    target = registered(first_name="Ana")
    source = registered(customer_id="cus_2", first_name="Ana", billing={"name": "Silva Lda"})
    target.absorb(source, LATER)
    assert target.state.billing.name == "Silva Lda"
    other = registered(customer_id="cus_3", first_name="Ana", billing={"name": "Outra Lda"})
    target.absorb(other, LATER)
    assert target.state.billing.name == "Silva Lda"
