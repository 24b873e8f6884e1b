"""How a customer's type moves by itself (contract v1.1); each move is a
`CustomerTypeChanged` event, so the history shows it.

- a customer with neither email nor phone is `anonymous`, and only such a customer is:
  losing the last contact makes it `anonymous`, and an `anonymous` customer stays so until
  an email or a phone is added, which makes it `new`;
- `new` becomes `regular` after its first completed purchase, once it has an email or phone;
- `unregistered` (created from an order) becomes `regular` when staff complete it with an
  email or phone through PATCH or PUT (a request that gives one and asks for no type).

A type asked for explicitly (PATCH or PUT with `type`) is the staff's choice, checked by
`domain.customer.profile_rules`, and not a move of these rules. Only an active customer moves.
"""

from typing import NamedTuple

from domain.customer.profile import CustomerType


class TypeMove(NamedTuple):
    to: CustomerType
    # contact_removed | contact_added | first_purchase | completed_by_staff
    reason: str


def type_move(
    current: CustomerType, *, has_contact: bool, completed_purchases: int, completed_by_staff: bool
) -> TypeMove | None:
    """The next move of a customer's type, or None when it stays."""
    if not has_contact:
        return None if current == CustomerType.ANONYMOUS else TypeMove(CustomerType.ANONYMOUS, "contact_removed")
    if current == CustomerType.ANONYMOUS:
        return TypeMove(CustomerType.NEW, "contact_added")
    if current == CustomerType.NEW and completed_purchases >= 1:
        return TypeMove(CustomerType.REGULAR, "first_purchase")
    if current == CustomerType.UNREGISTERED and completed_by_staff:
        return TypeMove(CustomerType.REGULAR, "completed_by_staff")
    return None
