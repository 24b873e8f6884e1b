"""The byte budget of one customer: the rule that keeps every document made from it (the
snapshot, the read model's view, a merge's event) far below MongoDB's 16 MB limit.

What accumulates (notes, consents, purchases, tags, attributes, what a merge brings) may
grow a customer up to `CUSTOMER_BYTE_BUDGET` bytes of state (its JSON, UTF-8). A command
whose event would take it past the budget is refused (`CustomerTooLarge`, a 409), and
nothing is written. Lifecycle events (delete, restore, merged into another, erase) are
never refused: they don't accumulate, and a full customer must stay deletable and erasable.
Sealing personal fields (base64 of ciphertext) makes a stored state about a third bigger
than this: still a fifth of the limit at most.
"""

from domain.customer.state import CustomerState
from domain.errors import DomainError

CUSTOMER_BYTE_BUDGET = 2 * 1024 * 1024


class CustomerTooLarge(DomainError):
    def __init__(self, customer_id: str, size_bytes: int):
        self.customer_id = customer_id
        self.size_bytes = size_bytes
        self.budget_bytes = CUSTOMER_BYTE_BUDGET
        super().__init__(
            f"customer {customer_id} would hold {size_bytes} bytes, over its budget of {CUSTOMER_BYTE_BUDGET}: "
            "remove something (or merge into the customer with less) first"
        )


def byte_size(state: CustomerState | None) -> int:
    return 0 if state is None else len(state.model_dump_json().encode())


def within_budget(customer_id: str, size_before: int, state_after: CustomerState) -> int:
    """The size of `state_after`; `CustomerTooLarge` if it passes the budget by growing."""
    size = byte_size(state_after)
    if size > CUSTOMER_BYTE_BUDGET and size > size_before:
        raise CustomerTooLarge(customer_id, size)
    return size
