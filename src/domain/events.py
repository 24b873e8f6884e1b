"""The base of every event the service stores: small, immutable, versioned for upcasting."""

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Bumped when the shape changes; the class then gets an `upcast_v<n>_v<n+1>` static
    # method per older version, which the event codec applies on read.
    schema_version: ClassVar[int] = 1
    # The public name on the `customers` exchange, e.g. `customer.registered`.
    routing_key: ClassVar[str]
    # Whether the outbox relay publishes it. Bookkeeping streams (the order and payment
    # links) are stored like any other, but they are the service's own business.
    published: ClassVar[bool] = True
    # Paths of the fields holding personal data ("a.b" into objects, "a[].b" into lists).
    # The event store encrypts them with the customer's key; erasing the customer destroys it.
    personal_data: ClassVar[tuple[str, ...]] = ()

    occurred_at: datetime

    def changed_fields(self) -> tuple[str, ...]:
        """The state fields this event changes, for the history (names only, never values)."""
        return ()
