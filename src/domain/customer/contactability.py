"""Whether the business may contact a customer (the contract's `contactable`): the customer
has not asked not to be contacted, and there is an email or a phone to reach them on."""

from domain.customer.state import CustomerState


def is_contactable(state: CustomerState) -> bool:
    return not state.preferences.do_not_contact and bool(state.email or state.phone)
