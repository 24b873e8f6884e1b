"""The byte budgets of one customer: the rules that keep every document made from it (the
snapshot, the read model's view, a purchase record, a merge's event) far below MongoDB's
16 MB limit.

- What accumulates in the state (consents, tags, attributes, what a merge brings) may
  grow it up to `CUSTOMER_BYTE_BUDGET` bytes (its JSON, UTF-8). The purchase history does
  not count: it is kept outside every customer document, one record per order and per
  payment, so a customer may hold any number of them. Notes stay outside the state too.
- One payment, with its refunds, stays within `PAYMENT_BYTE_BUDGET` (its record is one
  document).
- A merge carries the source's purchase history in its event: at most
  `MERGED_HISTORY_BYTE_BUDGET` bytes of it.

A command that would pass a budget is refused (`CustomerTooLarge`, a 409), and nothing is
written. Lifecycle events (delete, restore, merged into another, erase) are never
refused: they don't accumulate, and a full customer must stay deletable and erasable.
Sealing personal fields (base64 of ciphertext) makes a stored state about a third bigger
than its budget: with a merge's history, still well under half the limit.
"""

from domain.customer.state import CustomerState
from domain.errors import DomainError

CUSTOMER_BYTE_BUDGET = 2 * 1024 * 1024
PAYMENT_BYTE_BUDGET = 64 * 1024
MERGED_HISTORY_BYTE_BUDGET = 4 * 1024 * 1024

_REMEDY = "remove something (or merge into the customer with less) first"


class CustomerTooLarge(DomainError):
    def __init__(
        self,
        customer_id: str,
        size_bytes: int,
        budget_bytes: int = CUSTOMER_BYTE_BUDGET,
        what: str = "its state",
        remedy: str = _REMEDY,
    ):
        self.customer_id = customer_id
        self.size_bytes = size_bytes
        self.budget_bytes = budget_bytes
        super().__init__(
            f"customer {customer_id}: {what} would take {size_bytes} bytes, over its budget of {budget_bytes}: {remedy}"
        )


def byte_size(state: CustomerState | None) -> int:
    """The size the state budget counts: the state without its purchase history."""
    return 0 if state is None else len(state.model_dump_json(exclude={"purchases"}).encode())


def payment_within_budget(customer_id: str, state: CustomerState, payment_id: str) -> None:
    payment = state.purchases.payment(payment_id)
    size = 0 if payment is None else len(payment.model_dump_json().encode())
    if size > PAYMENT_BYTE_BUDGET:
        raise CustomerTooLarge(
            customer_id, size, PAYMENT_BYTE_BUDGET, f"payment {payment_id} with its refunds", "no more refunds of it"
        )


def history_mergeable(customer_id: str, state: CustomerState) -> None:
    """`CustomerTooLarge` if the purchase history is too big for a merge's event to carry."""
    size = len(state.purchases.model_dump_json().encode())
    if size > MERGED_HISTORY_BYTE_BUDGET:
        raise CustomerTooLarge(
            customer_id,
            size,
            MERGED_HISTORY_BYTE_BUDGET,
            "the purchase history a merge would carry",
            "merge the other way round, into this customer",
        )


def within_budget(customer_id: str, size_before: int, state_after: CustomerState) -> int:
    """The size of `state_after`; `CustomerTooLarge` if it passes the budget by growing."""
    size = byte_size(state_after)
    if size > CUSTOMER_BYTE_BUDGET and size > size_before:
        raise CustomerTooLarge(customer_id, size)
    return size
