"""Load, decide, commit for a message of another service.

Handling one inbound message may touch several customers (matched or created), and the
order or payment link it is about. All of it, with the contact keys claimed or released
and the message's `event_id`, is one commit through `CustomerChanges.commit`: the same
append path as every command. A concurrent change (a version conflict, or another message
creating the same person first) makes the message be decided again on fresh state; the
second time, the person is matched instead of created.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import structlog

from application.commands.customer_changes import CustomerChanges
from application.contact_uniqueness import HeldKey, keys_held
from application.errors import ContactAlreadyTaken, CustomerNotFound, MessageAlreadyProcessed, VersionConflict
from application.events import EventMetadata, RecordedEvent
from application.integration.messages import Envelope, Person
from application.integration.shared_reads import SharedHolderReads, SharedReads
from application.phone_regions import PhoneRegions
from application.ports import Clock, ContactKeyHolders, EventStore, IdGenerator
from domain.customer.aggregate import Customer
from domain.customer.contact import email_key, usable_contact
from domain.customer.profile import CustomerStatus
from domain.integration.events import LinkEvent
from domain.integration.links import OrderLink, PaymentLink

MAX_ATTEMPTS = 20
# A merged customer points at its target, which may itself have been merged since.
MAX_MERGE_HOPS = 10

log = structlog.get_logger(__name__)
Link = TypeVar("Link", OrderLink, PaymentLink)


class IntegrationWork:
    """What one message loads and changes, until it is committed."""

    def __init__(
        self,
        business_id: str,
        default_region: str,
        changes: CustomerChanges,
        link_streams: SharedReads[str, list[RecordedEvent]],
        contact_keys: ContactKeyHolders,
        ids: IdGenerator,
        clock: Clock,
    ):
        self.business_id = business_id
        self.default_region = default_region
        self.now = clock.now()
        self._changes = changes
        self._link_streams = link_streams
        self._contact_keys = contact_keys
        self._ids = ids
        self.customers: dict[str, Customer] = {}
        self.keys_before: frozenset[HeldKey] = frozenset()
        self.links: list[OrderLink | PaymentLink] = []
        # Who held each contact key when this message read it (None: nobody).
        self._stored_holders: dict[tuple[str, str], str | None] = {}

    async def order_link(self, order_id: str) -> OrderLink:
        return await self._link(OrderLink, OrderLink.stream_id(self.business_id, order_id))

    async def payment_link(self, payment_id: str) -> PaymentLink:
        return await self._link(PaymentLink, PaymentLink.stream_id(self.business_id, payment_id))

    async def _link(self, kind: type[Link], stream_id: str) -> Link:
        recorded = (await self._link_streams.read(self.business_id, [stream_id])).get(stream_id, [])
        link = kind.from_history(stream_id, [event.event_as(LinkEvent) for event in recorded])
        self.links.append(link)
        return link

    async def customer(self, customer_id: str) -> Customer | None:
        """The customer of this business with this id, or the one it was merged into."""
        for _ in range(MAX_MERGE_HOPS):
            customer = self.customers.get(customer_id)
            if customer is None:
                try:
                    # Every message records a purchase fact: it needs the history.
                    customer = await self._changes.load(self.business_id, customer_id, purchases=True)
                except CustomerNotFound:
                    return None
                self.customers[customer.id] = customer
                self.keys_before |= keys_held([customer])
            if customer.state.status != CustomerStatus.MERGED or customer.state.merged_into is None:
                return customer
            customer_id = customer.state.merged_into
        return None

    async def read_holders(self, people: Iterable[Person]) -> None:
        """Reads who holds the people's emails and phones, in one read for them all, so that
        resolving each of them reads no contact key again."""
        keys = {
            (_KEY_KINDS[field], _key_value(field, value))
            for person in people
            for field, value in self._contact_of(person).items()
            if field in _KEY_KINDS
        } - self._stored_holders.keys()
        if keys:
            found = await self._contact_keys.holders(self.business_id, keys)
            self._stored_holders.update({key: found.get(key) for key in keys})

    async def resolve(self, person: Person) -> Customer | None:
        """Matches the person (customer id, then email, then phone) and gives the match the
        contact data it lacks; creates an `unregistered` customer when nothing matches.
        None when the person carries no usable data at all."""
        contact = self._contact_of(person)
        await self.read_holders([person])
        customer = await self._match(person.customer_id, contact)
        if customer is None:
            if not contact:
                return None
            customer = Customer.register_from_order(
                customer_id=self._ids.new_customer_id(),
                business_id=self.business_id,
                contact=contact,
                default_region=self.default_region,
                now=self.now,
            )
            self.customers[customer.id] = customer
            return customer
        missing = {
            field: value
            for field, value in contact.items()
            if field not in _KEY_KINDS
            or await self._holder(_KEY_KINDS[field], _key_value(field, value)) in (None, customer.id)
        }
        customer.add_missing_contact(missing, self.default_region, self.now)
        return customer

    def _contact_of(self, person: Person) -> dict[str, str]:
        return usable_contact(person.first_name, person.last_name, person.email, person.phone, self.default_region)

    async def _match(self, customer_id: str | None, contact: Mapping[str, str]) -> Customer | None:
        if customer_id is not None:
            customer = await self.customer(customer_id)
            if customer is not None and customer.state.status == CustomerStatus.ACTIVE:
                return customer
        for field in ("email", "phone"):
            if field in contact:
                holder = await self._holder(_KEY_KINDS[field], _key_value(field, contact[field]))
                if holder is not None:
                    return await self.customer(holder)
        return None

    async def _holder(self, kind: str, value: str) -> str | None:
        """Who holds a contact key, counting what this message already changed."""
        for customer in self.customers.values():
            if (kind, value) in customer.state.contact_keys():
                return customer.id
        if (kind, value) not in self._stored_holders:
            self._stored_holders[(kind, value)] = await self._contact_keys.holder(self.business_id, kind, value)
        holder = self._stored_holders[(kind, value)]
        if (
            holder is not None
            and holder in self.customers
            and (kind, value) not in self.customers[holder].state.contact_keys()
        ):
            return None  # released by this very message (say, a changed email)
        return holder


_KEY_KINDS = {"email": "email", "phone": "phone"}


def _key_value(field: str, value: str) -> str:
    return email_key(value) if field == "email" else value


Decision = Callable[[IntegrationWork], Awaitable[None]]


class IntegrationChanges:
    def __init__(
        self,
        changes: CustomerChanges,
        event_store: EventStore,
        contact_keys: ContactKeyHolders,
        ids: IdGenerator,
        clock: Clock,
        regions: PhoneRegions,
    ):
        self._changes = changes
        # A batch's messages are decided at once: their reads of links and of contact
        # holders go together (see `shared_reads`).
        self._link_streams: SharedReads[str, list[RecordedEvent]] = SharedReads(event_store.load_streams)
        self._contact_keys = SharedHolderReads(contact_keys)
        self._ids = ids
        self._clock = clock
        self._regions = regions

    async def apply(self, message: Envelope[Any], decide: Decision) -> None:
        """Decides on fresh state and commits, once; a redelivered message changes nothing."""
        metadata = EventMetadata(
            business_id=message.business_id,
            actor=f"integration:{message.event_type}",
            correlation_id=message.message_id,
            causation_id=message.message_id,
            traceparent=message.traceparent,
        )
        for attempt in range(MAX_ATTEMPTS):
            work = IntegrationWork(
                message.business_id,
                self._regions.region_for(message.business_id),
                self._changes,
                self._link_streams,
                self._contact_keys,
                self._ids,
                self._clock,
            )
            await decide(work)
            if not any(aggregate.pending_events for aggregate in (*work.customers.values(), *work.links)):
                return
            try:
                await self._changes.commit(
                    message.business_id,
                    list(work.customers.values()),
                    work.keys_before,
                    metadata,
                    other_streams=work.links,
                    processed_message_id=message.message_id,
                )
                return
            except MessageAlreadyProcessed:
                return
            except (VersionConflict, ContactAlreadyTaken) as error:
                log.info("message %s met a concurrent change (%s); deciding again", message.message_id, error)
                await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
        raise VersionConflict(message.message_id, -1)
