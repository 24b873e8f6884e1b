from abc import ABC, abstractmethod

import structlog
from pydantic import BaseModel, ConfigDict

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_changes import CustomerChanges
from application.ports import Clock, EventStore
from domain.customer.aggregate import Customer
from domain.customer.contact import phone_digits
from domain.customer.events import CustomerMerged
from domain.customer.profile import CustomerStatus

# A merge chain longer than this is not followed further (each merge is a manager's act).
MAX_MERGED_SOURCES = 200

log = structlog.get_logger(__name__)


class ParkedCopies(ABC):
    """Messages parked in dead-letter queues, which hold the people they are about as they came."""

    @abstractmethod
    async def forget(self, customer_ids: list[str], emails: list[str], phones: list[str]) -> int:
        """Drops every parked message that names one of the customers, emails (case-folded)
        or phone digits; returns how many."""


class EraseCustomer(BaseModel):
    """GDPR erasure: the data key is destroyed with the `CustomerErased` event, in one commit."""

    model_config = ConfigDict(frozen=True)

    business_id: str
    customer_id: str


class EraseCustomerHandler:
    """Erases the customer and every customer merged into it (and into those, and so on):
    a merged source still holds the person's name, email and phone under its own data key,
    so the erasure destroys its key too, in the same commit."""

    def __init__(
        self, changes: CustomerChanges, clock: Clock, event_store: EventStore, parked: ParkedCopies | None = None
    ):
        self._changes = changes
        self._clock = clock
        self._event_store = event_store
        self._parked = parked

    async def execute(self, command: EraseCustomer, context: CommandContext) -> CommandResult:
        sources = await self._merged_sources(command.business_id, command.customer_id)
        # What parked messages may name them by, read before the erasure shreds it.
        emails: list[str] = []
        phones: list[str] = []

        def decide(customer: Customer, *merged: Customer) -> None:
            now = self._clock.now()
            for each in (customer, *merged):
                emails.extend([each.state.email.casefold()] if each.state.email else [])
                phones.extend(phone_digits(each.state.phone) if each.state.phone else [])
            customer.erase(now)
            for source in merged:
                if source.state.status != CustomerStatus.ERASED:
                    source.erase(now)

        result = await self._changes.change(command.business_id, [command.customer_id, *sources], decide, context)
        await self._forget_parked([command.customer_id, *sources], emails, phones)
        return result

    async def _forget_parked(self, customer_ids: list[str], emails: list[str], phones: list[str]) -> None:
        if self._parked is None:
            return
        try:
            dropped = await self._parked.forget(customer_ids, sorted(set(emails)), sorted(set(phones)))
        except Exception as error:  # the erasure is committed; parked copies are ops' to purge then
            log.warning("erasure could not reach the dead-letter queues: %s", error, customer_id=customer_ids[0])
            return
        if dropped:
            log.info("erasure dropped parked messages", customer_id=customer_ids[0], dropped=dropped)

    async def _merged_sources(self, business_id: str, customer_id: str) -> list[str]:
        """Every customer merged into this one, directly or through others, from the event
        store (one stream read per customer in the chain)."""
        found: list[str] = []
        pending = [customer_id]
        while pending and len(found) < MAX_MERGED_SOURCES:
            stream = await self._event_store.load_stream(business_id, pending.pop())
            for recorded in stream:
                if isinstance(recorded.event, CustomerMerged) and recorded.event.source_customer_id not in found:
                    found.append(recorded.event.source_customer_id)
                    pending.append(recorded.event.source_customer_id)
        return found[:MAX_MERGED_SOURCES]
