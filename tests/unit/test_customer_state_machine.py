"""The customer's lifecycle under any sequence of commands (hypothesis state machine)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.customer.aggregate import Customer, ProfileInput
from domain.customer.notes import NoteType
from domain.customer.profile import CustomerStatus, CustomerType
from domain.customer.purchases import OrderRole
from domain.errors import CustomerNotActive, DomainError

pytestmark = pytest.mark.unit

names = st.one_of(st.none(), st.text(alphabet="abc ÁÉ", max_size=8))
emails = st.one_of(st.none(), st.sampled_from(["ana@example.com", "Ana@Example.com", "rui@example.org"]))
phones = st.one_of(st.none(), st.sampled_from(["912345678", "+351 912 345 679", "bad"]))


class CustomerLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.now = datetime(2026, 11, 23, tzinfo=UTC)
        self.customer = Customer.register(
            customer_id="cus_1",
            business_id="biz_1",
            profile=ProfileInput(first_name="Ana"),
            default_region="PT",
            now=self.now,
        )
        self.notes = 0

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def _attempt(self, command) -> None:
        version_before = self.customer.version
        try:
            command()
        except CustomerNotActive:
            assert self.customer.version == version_before
        except DomainError:
            assert self.customer.version == version_before

    @rule(first_name=names, email=emails, phone=phones)
    def update(self, first_name, email, phone):
        was_active = self.customer.state.status == CustomerStatus.ACTIVE
        version = self.customer.version
        try:
            self.customer.update_profile({"first_name": first_name, "email": email, "phone": phone}, "PT", self._tick())
        except CustomerNotActive:
            assert not was_active
        except DomainError:
            pass
        else:
            assert was_active
        if not was_active:
            assert self.customer.version == version

    @rule()
    def delete(self):
        self._attempt(lambda: self.customer.delete(self._tick()))

    @rule()
    def restore(self):
        self._attempt(lambda: self.customer.restore(self._tick()))

    @rule(content=st.text(max_size=20))
    def add_note(self, content):
        before = self.customer.state.notes_count
        self._attempt(
            lambda: self.customer.add_note(f"note_{self.notes}", NoteType.PERSONAL, content, "u", self._tick())
        )
        self.notes += 1
        assert self.customer.state.notes_count in (before, before + 1)

    @rule(granted=st.booleans())
    def consent(self, granted):
        self._attempt(lambda: self.customer.record_consent("marketing", granted, None, None, self._tick()))
        if self.customer.state.consent_log:
            assert self.customer.state.consents["marketing"] == self.customer.state.consent_log[-1]

    @rule(completed=st.booleans())
    def buy(self, completed):
        """An order the customer books (completed or not); only a deleted one still takes it."""
        if not self.customer.state.history_open:
            return
        order_id = f"ord_{self.customer.version}"
        now = self._tick()
        self.customer.link_order(
            order_id=order_id,
            roles=(OrderRole.BOOKER,),
            purchaser=True,
            placed_at=now,
            total_amount_minor=100,
            currency="EUR",
            items_count=1,
            now=now,
        )
        if completed:
            self.customer.complete_order(
                order_id=order_id, completed_at=now, total_amount_minor=100, currency="EUR", items_count=1, now=now
            )

    @invariant()
    def an_active_buyer_with_a_contact_is_no_longer_new(self):
        state = self.customer.state
        if state.status == CustomerStatus.ACTIVE and (state.email or state.phone) and state.metrics.total_purchases:
            assert state.type != CustomerType.NEW

    @invariant()
    def version_counts_the_events(self):
        assert self.customer.version == len(self.customer.pending_events) == self.customer.state.version

    @invariant()
    def replaying_the_events_gives_the_same_state(self):
        assert Customer.from_history("cus_1", self.customer.pending_events).state == self.customer.state

    @invariant()
    def only_an_active_customer_holds_contact_keys(self):
        if self.customer.state.status != CustomerStatus.ACTIVE:
            assert self.customer.state.contact_keys() == frozenset()

    @invariant()
    def anonymous_exactly_when_there_is_no_email_or_phone(self):
        state = self.customer.state
        assert (state.type == CustomerType.ANONYMOUS) == (not state.email and not state.phone)

    @invariant()
    def a_customer_always_has_a_name_email_or_phone(self):
        state = self.customer.state
        assert any((state.first_name, state.last_name, state.email, state.phone))


TestCustomerLifecycle = CustomerLifecycle.TestCase
TestCustomerLifecycle.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
