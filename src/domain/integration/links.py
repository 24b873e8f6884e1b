"""The order link and the payment link: one stream per order, and per payment, of another
service. They make messages that arrive out of order give the result of the right order.

An order link remembers the placement (which customers the order was matched to), the
completion and the cancellation, whichever comes first. Once the placement is known, its
customers are brought up to date with everything known so far; before that, a completion
or cancellation only waits here. A payment link does the same with the payer, the
outcomes (succeeded, failed) and the refunds. The customers' commands are idempotent, so
bringing a customer up to date twice changes nothing.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Self

from domain.customer.aggregate import Customer
from domain.customer.purchases import PaymentStatus
from domain.integration.events import (
    LinkEvent,
    OrderCancellationRecorded,
    OrderCompletionRecorded,
    OrderPlacementRecorded,
    Participant,
    PaymentOutcomeRecorded,
    PaymentRefundRecorded,
)


class _Link:
    def __init__(self, stream_id: str):
        self.id = stream_id
        self.version = 0
        self.pending_events: list[LinkEvent] = []

    @classmethod
    def from_history(cls, stream_id: str, events: Iterable[LinkEvent]) -> Self:
        link = cls(stream_id)
        for event in events:
            link.apply(event)
        return link

    def apply(self, event: LinkEvent) -> None:
        self.version += 1
        self._apply(event)

    def _apply(self, event: LinkEvent) -> None:
        raise NotImplementedError

    def _trigger(self, event: LinkEvent) -> None:
        self.apply(event)
        self.pending_events.append(event)


class OrderLink(_Link):
    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.placement: OrderPlacementRecorded | None = None
        self.completion: OrderCompletionRecorded | None = None
        self.cancellation: OrderCancellationRecorded | None = None

    @staticmethod
    def stream_id(business_id: str, order_id: str) -> str:
        # A business id has no ':', so no two (business, order) pairs share a stream.
        return f"order:{business_id}:{order_id}"

    # public commands: each returns whether it was news

    def record_placement(self, placement: OrderPlacementRecorded) -> bool:
        if self.placement is not None:
            return False
        self._trigger(placement)
        return True

    def record_completion(self, completion: OrderCompletionRecorded) -> bool:
        if self.completion is not None:
            return False
        self._trigger(completion)
        return True

    def record_cancellation(self, cancellation: OrderCancellationRecorded) -> bool:
        if self.cancellation is not None:
            return False
        self._trigger(cancellation)
        return True

    def update_participant(self, customer: Customer, participant: Participant, now: datetime) -> None:
        """Gives `customer` (the participant, or the customer it was merged into) everything known."""
        placement = self.placement
        if placement is None:
            return
        customer.link_order(
            order_id=placement.order_id,
            roles=participant.roles,
            purchaser=participant.customer_id == placement.purchaser_id,
            placed_at=placement.placed_at,
            total_amount_minor=placement.total_amount_minor,
            currency=placement.currency,
            items_count=placement.items_count,
            now=now,
        )
        if self.completion is not None:
            customer.complete_order(
                order_id=placement.order_id,
                completed_at=self.completion.completed_at,
                total_amount_minor=self.completion.total_amount_minor,
                currency=self.completion.currency,
                items_count=self.completion.items_count,
                now=now,
            )
        if self.cancellation is not None:
            customer.cancel_order(
                order_id=placement.order_id,
                cancelled_at=self.cancellation.cancelled_at,
                reason=self.cancellation.reason,
                now=now,
            )

    def _apply(self, event: LinkEvent) -> None:
        match event:
            case OrderPlacementRecorded():
                self.placement = event
            case OrderCompletionRecorded():
                self.completion = event
            case OrderCancellationRecorded():
                self.cancellation = event
            case _:
                raise TypeError(f"OrderLink cannot apply {type(event).__name__}")


class PaymentLink(_Link):
    def __init__(self, stream_id: str):
        super().__init__(stream_id)
        self.outcomes: dict[PaymentStatus, PaymentOutcomeRecorded] = {}
        self.refunds: dict[str, PaymentRefundRecorded] = {}

    @staticmethod
    def stream_id(business_id: str, payment_id: str) -> str:
        return f"payment:{business_id}:{payment_id}"

    def payer_ids(self) -> list[str]:
        """Each outcome's payer, matched from that outcome's own message."""
        return sorted({outcome.payer_id for outcome in self.outcomes.values() if outcome.payer_id})

    def record_outcome(self, outcome: PaymentOutcomeRecorded) -> bool:
        if outcome.status in self.outcomes:
            return False
        self._trigger(outcome)
        return True

    def record_refund(self, refund: PaymentRefundRecorded) -> bool:
        if refund.refund_id in self.refunds:
            return False
        self._trigger(refund)
        return True

    def update_payer(self, customer: Customer, payer_id: str, now: datetime) -> None:
        """Gives `customer` (the payer, or the customer it was merged into) the outcomes it
        paid, and the refunds once the payment succeeded: refunds wait until then."""
        for outcome in sorted(self.outcomes.values(), key=lambda outcome: outcome.status != PaymentStatus.FAILED):
            if outcome.payer_id != payer_id:
                continue
            customer.link_payment(
                payment_id=outcome.payment_id,
                order_id=outcome.order_id,
                status=outcome.status,
                amount_minor=outcome.amount_minor,
                currency=outcome.currency,
                method=outcome.method,
                at=outcome.at,
                failure_reason=outcome.failure_reason,
                now=now,
            )
            if outcome.status != PaymentStatus.SUCCEEDED:
                continue
            for refund in sorted(self.refunds.values(), key=lambda refund: refund.refund_id):
                customer.record_refund(
                    payment_id=outcome.payment_id,
                    refund_id=refund.refund_id,
                    amount_minor=refund.amount_minor,
                    currency=refund.currency,
                    refunded_at=refund.refunded_at,
                    now=now,
                )

    def _apply(self, event: LinkEvent) -> None:
        match event:
            case PaymentOutcomeRecorded():
                self.outcomes[event.status] = event
            case PaymentRefundRecorded():
                self.refunds[event.refund_id] = event
            case _:
                raise TypeError(f"PaymentLink cannot apply {type(event).__name__}")
