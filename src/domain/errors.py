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
