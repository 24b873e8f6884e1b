"""Load, decide, commit: the one path every customer command takes.

- Loads a customer from its snapshot, which the event store writes with every append of
  the customer (one read); after a conflict, from the snapshot plus any later events.
- Appends at the loaded version, with the customers' new states as their snapshots. A concurrent append makes the commit fail, and then the
  command is decided again on the fresh state (so no update is lost), unless the client
  named a version with If-Match: then it is told its version is stale.
- Reads the purchase history (kept outside the snapshot, a record per order and payment)
  only for a command that needs it (`purchases`: order and payment facts, merges,
  exports); the commit writes the records its events changed, and the whole history of
  a customer whose records were never written (its snapshot kept the history).
- Claims and releases contact keys (email, phone) in the same transaction, as
  `application.contact_uniqueness` says.
- Replays the outcome of a request whose Idempotency-Key was already committed.
"""

import asyncio
import random
import weakref
from collections.abc import Callable, Sequence

import structlog

from application.commands.context import CommandContext, CommandResult
from application.commands.customer_locks import CustomerLocks
from application.commits import Aggregate, Commit, IdempotencyRecord, PurchaseRecordChanges, StreamChanges
from application.contact_uniqueness import HeldKey, keys_held, releases_and_claims
from application.errors import (
    CustomerNotFound,
    IdempotencyKeyReused,
    IdempotencyKeyTaken,
    StaleVersion,
    VersionConflict,
)
from application.events import EventMetadata
from application.ports import EventStore, IdempotencyOutcomes, Snapshots
from domain.customer.aggregate import Customer
from domain.customer.events import CustomerErased, CustomerEvent
from domain.customer.notes import Note
from domain.customer.purchases import PurchaseHistory
from domain.customer.state import reads_purchases

MAX_ATTEMPTS = 20

log = structlog.get_logger(__name__)

Decision = Callable[..., Note | None]


class CustomerChanges:
    def __init__(self, event_store: EventStore, snapshots: Snapshots, outcomes: IdempotencyOutcomes):
        self._event_store = event_store
        self._snapshots = snapshots
        self._outcomes = outcomes
        self._locks = CustomerLocks()
        # Customers loaded from their events whose purchase records were never written (code
        # before them kept the history in the snapshot), with that history: their next
        # commit writes all of it.
        self._unwritten: weakref.WeakKeyDictionary[Customer, PurchaseHistory] = weakref.WeakKeyDictionary()

    async def create(self, business_id: str, make: Callable[[], Customer], context: CommandContext) -> CommandResult:
        replayed = await self._replay(business_id, context)
        if replayed is not None:
            return replayed
        customer = make()
        try:
            return await self._commit(business_id, [customer], frozenset(), context, note=None)
        except IdempotencyKeyTaken:
            return await self._replay_or_fail(business_id, context)

    async def change(
        self,
        business_id: str,
        customer_ids: Sequence[str],
        decide: Decision,
        context: CommandContext,
        expected_version: int | None = None,
        purchases: bool = False,
    ) -> CommandResult:
        """Applies `decide(*customers)`; the result is about the first customer. `purchases`:
        the decision needs the customers' purchase histories."""
        replayed = await self._replay(business_id, context)
        if replayed is not None:
            return replayed
        async with self._locks.hold(customer_ids):
            return await self._change_with_retries(
                business_id, customer_ids, decide, context, expected_version, purchases
            )

    async def _change_with_retries(
        self,
        business_id: str,
        customer_ids: Sequence[str],
        decide: Decision,
        context: CommandContext,
        expected_version: int | None,
        purchases: bool,
    ) -> CommandResult:
        for attempt in range(MAX_ATTEMPTS):
            # After a conflict, a snapshot may be behind its stream: read the events after it.
            customers = [
                await self.load(business_id, customer_id, fresh=attempt > 0, purchases=purchases)
                for customer_id in customer_ids
            ]
            first = customers[0]
            if expected_version is not None and first.version != expected_version:
                raise StaleVersion(first.id, expected_version, first.version)
            keys_before = keys_held(customers)
            note = decide(*customers)
            try:
                return await self._commit(business_id, customers, keys_before, context, note)
            except VersionConflict:
                if expected_version is not None:
                    raise StaleVersion(
                        first.id, expected_version, await self._current_version(business_id, first.id)
                    ) from None
                log.info("concurrent change of %s; deciding again on the fresh state", customer_ids)
                # Another process won: step back a little so that the retries spread out.
                await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            except IdempotencyKeyTaken:
                return await self._replay_or_fail(business_id, context)
        raise VersionConflict(customer_ids[0], -1)

    async def load(self, business_id: str, customer_id: str, fresh: bool = False, purchases: bool = False) -> Customer:
        """The customer from its snapshot; with `fresh`, or without a usable snapshot, also
        from the events after it. With `purchases`, with its purchase history.

        Events after the snapshot may already be in the history read with it: applying a
        purchase fact again changes nothing (`domain.customer.purchases`)."""
        snapshot = await self._snapshots.load(business_id, customer_id, with_purchases=purchases)
        customer = Customer.from_state(snapshot, history_at_hand=purchases) if snapshot else Customer(customer_id)
        if fresh or snapshot is None:
            later = await self._event_store.load_stream(business_id, customer_id, after_version=customer.version)
            if not customer.history_at_hand and any(reads_purchases(recorded.event) for recorded in later):
                # A purchase fact committed since the snapshot was read: its metrics need the
                # history, which is read with the snapshot again.
                return await self.load(business_id, customer_id, fresh, purchases=True)
            for recorded in later:
                if not isinstance(recorded.event, CustomerEvent):
                    raise CustomerNotFound(customer_id)  # an order or payment link: no customer
                customer.apply(recorded.event)
        if customer.version == 0 or customer.state.business_id != business_id:
            raise CustomerNotFound(customer_id)
        if snapshot is None and not await self._snapshots.records_written(business_id, customer_id):
            self._unwritten[customer] = customer.state.purchases
        return customer

    async def _commit(
        self,
        business_id: str,
        customers: Sequence[Customer],
        keys_before: frozenset[HeldKey],
        context: CommandContext,
        note: Note | None,
    ) -> CommandResult:
        result = CommandResult(customer=customers[0].state, position=None, note=note)
        if not any(customer.pending_events for customer in customers):
            return result
        scope = context.idempotency_scope(business_id)
        idempotency = (
            IdempotencyRecord(
                key=scope,
                customer_ids=tuple(customer.id for customer in customers),
                request_hash=context.request_hash or "",
                outcome=result.model_dump(mode="json"),
            )
            if scope
            else None
        )
        position = await self.commit(
            business_id, customers, keys_before, context.metadata_for(business_id), idempotency=idempotency
        )
        return result.model_copy(update={"position": position})

    async def commit(
        self,
        business_id: str,
        customers: Sequence[Customer],
        keys_before: frozenset[HeldKey],
        metadata: EventMetadata,
        *,
        other_streams: Sequence[Aggregate] = (),
        idempotency: IdempotencyRecord | None = None,
        processed_message_id: str | None = None,
    ) -> int:
        """Appends what the customers (and other aggregates) triggered, with the contact keys
        the customers claim or release, in one transaction; returns the last position."""
        changed = [customer for customer in customers if customer.pending_events]
        others = [aggregate for aggregate in other_streams if aggregate.pending_events]
        releases, claims = releases_and_claims(business_id, keys_before, keys_held(customers))
        commit = Commit(
            business_id=business_id,
            streams=(
                *(
                    StreamChanges.of(
                        customer,
                        snapshot=customer.state,
                        purchase_records=PurchaseRecordChanges.of(
                            customer.state, customer.pending_events, self._unwritten.get(customer)
                        ),
                    )
                    for customer in changed
                ),
                *(StreamChanges.of(aggregate) for aggregate in others),
            ),
            releases=releases,
            claims=claims,
            idempotency=idempotency,
            processed_message_id=processed_message_id,
            erasures=tuple(
                customer.id
                for customer in changed
                if any(isinstance(event, CustomerErased) for event in customer.pending_events)
            ),
        )
        position = await self._event_store.append(commit, metadata)
        for aggregate in (*changed, *others):
            aggregate.pending_events.clear()
        for customer in changed:
            self._unwritten.pop(customer, None)  # its records are written now
        return position

    async def _replay(self, business_id: str, context: CommandContext) -> CommandResult | None:
        scope = context.idempotency_scope(business_id)
        if scope is None:
            return None
        stored = await self._outcomes.find(scope)
        if stored is None:
            return None
        if stored.request_hash != (context.request_hash or ""):
            raise IdempotencyKeyReused(f"Idempotency-Key {context.idempotency_key!r} was used for another request")
        return CommandResult.model_validate({**stored.outcome, "position": stored.position})

    async def _replay_or_fail(self, business_id: str, context: CommandContext) -> CommandResult:
        replayed = await self._replay(business_id, context)
        if replayed is None:
            raise IdempotencyKeyTaken()
        return replayed

    async def _current_version(self, business_id: str, customer_id: str) -> int:
        return await self._event_store.stream_version(business_id, customer_id)
