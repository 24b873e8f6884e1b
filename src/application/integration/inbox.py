"""Handles a batch of inbound messages: skips those already committed, then hands each to
its handler. Dispatch is explicit, by message type.

The batch's messages are decided concurrently (up to `concurrency` chains at a time), so
that their commits meet in the event store's group commits: one transaction for many
messages instead of one each. Messages about the same order, payment or person form a
chain, handled in delivery order (see `related_messages`). Order across chains carries no
meaning: a stream is split into partitions by message id, so an order's messages already
go through different partitions at once; each handler decides on fresh state and decides
again after a concurrent change (a version conflict, a contact taken meanwhile). A batch
returns once every message has settled; the first failure then fails it (the consumer
handles its messages one by one, and those committed are skipped as redeliveries).
"""

import asyncio
from collections.abc import Sequence

from application.integration.messages import (
    InboundMessage,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
)
from application.integration.record_order import RecordOrderCancelled, RecordOrderCompleted, RecordOrderPlaced
from application.integration.record_payment import RecordPaymentOutcome, RecordRefund
from application.integration.related_messages import chains
from application.ports import ProcessedMessages


class ProcessInboundMessages:
    def __init__(
        self,
        processed: ProcessedMessages,
        order_placed: RecordOrderPlaced,
        order_completed: RecordOrderCompleted,
        order_cancelled: RecordOrderCancelled,
        payment_outcome: RecordPaymentOutcome,
        refund: RecordRefund,
        concurrency: int = 16,
    ):
        self._processed = processed
        self._order_placed = order_placed
        self._order_completed = order_completed
        self._order_cancelled = order_cancelled
        self._payment_outcome = payment_outcome
        self._refund = refund
        self._concurrency = concurrency

    async def execute(self, batch: Sequence[InboundMessage]) -> int:
        """Returns how many messages it applied (redeliveries are skipped)."""
        done = await self._processed.already_processed([message.message_id for message in batch])
        fresh: dict[str, InboundMessage] = {}
        for message in batch:
            # The same event twice in one batch: the second is a redelivery too.
            if message.message_id not in done:
                fresh.setdefault(message.message_id, message)
        turns = asyncio.Semaphore(self._concurrency)

        async def handle(chain: list[InboundMessage]) -> None:
            async with turns:
                for message in chain:
                    await self._handle(message)

        outcomes = await asyncio.gather(
            *(handle(chain) for chain in chains(list(fresh.values()))), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(fresh)

    async def _handle(self, message: InboundMessage) -> None:
        match message:
            case OrderPlaced():
                await self._order_placed.execute(message)
            case OrderCompleted():
                await self._order_completed.execute(message)
            case OrderCancelled():
                await self._order_cancelled.execute(message)
            case PaymentSucceeded() | PaymentFailed():
                await self._payment_outcome.execute(message)
            case PaymentRefunded():
                await self._refund.execute(message)
