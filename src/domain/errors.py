"""Errors the domain raises. The interfaces map each to an HTTP status in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """A command broke a business rule."""


class InvalidCustomerData(DomainError):
    """One or more fields break the customer's invariants."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))


class CustomerNotActive(DomainError):
    """A deleted customer must be restored first; a merged or erased one can't change at all."""

    def __init__(self, customer_id: str, status: str, action: str):
        self.customer_id = customer_id
        self.status = status
        super().__init__(f"customer {customer_id} is {status} and cannot be {action}")


class HasOpenOrders(DomainError):
    def __init__(self, customer_id: str, open_orders: int):
        self.open_orders = open_orders
        super().__init__(f"customer {customer_id} has {open_orders} open order(s)")


class InvalidMerge(DomainError):
    pass


class SegmentGone(DomainError):
    """The segment was deleted."""

    def __init__(self, segment_id: str):
        self.segment_id = segment_id
        super().__init__(f"segment {segment_id} was deleted")
