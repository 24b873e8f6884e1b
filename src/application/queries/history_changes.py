"""The values behind a history entry's changed fields: `{field: {"from": ..., "to": ...}}`.

The history read model keeps field names only (it holds no personal data, so an erasure
has nothing to clean there). The values are rebuilt when asked, by folding the customer's
events from the event store: the state before and after each entry's version.

An erased customer's personal data stays erased in the past: its sealed fields read as
absent once its key is destroyed, and the states are also cleared of personal data
(`without_personal_data`) whenever the stream holds the erasure, so no process that still
has the key in memory can show them.

Collections are summarized: `notes` is a count, `purchases` the counts of orders and
payments. Cost: one read of the stream (by its index), whatever the page.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from application.events import RecordedEvent
from domain.customer.aggregate import Customer
from domain.customer.events import CustomerErased, CustomerEvent
from domain.customer.state import CustomerState, without_personal_data

Changes = dict[str, dict[str, Any]]


def changes_by_version(
    customer_id: str, stream: list[RecordedEvent], wanted: Mapping[int, Sequence[str]]
) -> dict[int, Changes]:
    """For each wanted version, its fields (as the history recorded them: an erased event
    no longer names its personal fields), each with its value before and after."""
    erased = any(isinstance(recorded.event, CustomerErased) for recorded in stream)
    customer = Customer(customer_id)
    found: dict[int, Changes] = {}
    for recorded in stream:
        if not isinstance(recorded.event, CustomerEvent):
            break
        before = customer.state if customer.version else None
        customer.apply(recorded.event)
        if recorded.version in wanted:
            after = customer.state
            if erased:
                before = without_personal_data(before) if before is not None else None
                after = without_personal_data(after)
            found[recorded.version] = {
                field: {"from": value_of(before, field), "to": value_of(after, field)}
                for field in wanted[recorded.version]
            }
        if recorded.version >= max(wanted, default=0):
            break
    return found


def value_of(state: CustomerState | None, field: str) -> Any:
    """The JSON value of a (dotted) state field, e.g. `email`, `preferences.language`,
    `consents.marketing_email`; None when absent."""
    if state is None:
        return None
    head, _, rest = field.partition(".")
    if head == "notes":
        return state.notes_count
    if head == "purchases":
        return {"orders": len(state.purchases.orders), "payments": len(state.purchases.payments)}
    if head == "consents":
        current = {
            purpose: entry.model_dump(mode="json", exclude={"purpose"}) for purpose, entry in state.consents.items()
        }
        return current.get(rest) if rest else current
    value: Any = state.model_dump(mode="json", include={head}).get(head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, dict) else None
    return value
