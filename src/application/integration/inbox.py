"""Handles a batch of inbound messages: skips those already committed, then hands each to
its handler, in delivery order. Dispatch is explicit, by message type."""

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
    ):
        self._processed = processed
        self._order_placed = order_placed
        self._order_completed = order_completed
        self._order_cancelled = order_cancelled
        self._payment_outcome = payment_outcome
        self._refund = refund

    async def execute(self, batch: Sequence[InboundMessage]) -> int:
        """Returns how many messages it applied (redeliveries are skipped)."""
        done = await self._processed.already_processed([message.message_id for message in batch])
        applied = 0
        for message in batch:
            if message.message_id in done:
                continue
            await self._handle(message)
            # The same event twice in one batch: the second is a redelivery too.
            done.add(message.message_id)
            applied += 1
        return applied

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
