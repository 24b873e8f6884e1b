"""payment.succeeded, payment.failed and payment.refunded.

The payer of each outcome is matched from that outcome's message, like an attendee. A
refund is recorded on the payment's link; it reaches the payer's history (and lowers its
net spend) once the payment's success is known, whichever arrived first.
"""

from application.integration.integration_changes import IntegrationChanges, IntegrationWork
from application.integration.messages import PaymentFailed, PaymentRefunded, PaymentSucceeded
from domain.customer.purchases import PaymentStatus
from domain.integration.events import PaymentOutcomeRecorded, PaymentRefundRecorded
from domain.integration.links import PaymentLink


class RecordPaymentOutcome:
    """payment.succeeded and payment.failed: the same fact with another status."""

    def __init__(self, changes: IntegrationChanges):
        self._changes = changes

    async def execute(self, message: PaymentSucceeded | PaymentFailed) -> None:
        data = message.data
        if isinstance(message, PaymentSucceeded):
            status, at, method, reason = PaymentStatus.SUCCEEDED, message.data.paid_at, message.data.method, None
        else:
            status, at, method, reason = PaymentStatus.FAILED, message.data.failed_at, None, message.data.reason

        async def decide(work: IntegrationWork) -> None:
            link = await work.payment_link(data.payment_id)
            if status not in link.outcomes:
                payer = await work.resolve(data.payer)
                link.record_outcome(
                    PaymentOutcomeRecorded(
                        occurred_at=work.now,
                        payment_id=data.payment_id,
                        status=status,
                        payer_id=payer.id if payer else None,
                        order_id=data.order_id,
                        amount_minor=data.amount_minor,
                        currency=data.currency,
                        method=method,
                        at=at,
                        failure_reason=reason,
                    )
                )
            await update_payers(work, link)

        await self._changes.apply(message, decide)


class RecordRefund:
    def __init__(self, changes: IntegrationChanges):
        self._changes = changes

    async def execute(self, message: PaymentRefunded) -> None:
        data = message.data

        async def decide(work: IntegrationWork) -> None:
            link = await work.payment_link(data.payment_id)
            link.record_refund(
                PaymentRefundRecorded(
                    occurred_at=work.now,
                    refund_id=data.refund_id,
                    amount_minor=data.amount_minor,
                    currency=data.currency,
                    refunded_at=data.refunded_at,
                )
            )
            await update_payers(work, link)

        await self._changes.apply(message, decide)


async def update_payers(work: IntegrationWork, link: PaymentLink) -> None:
    for payer_id in link.payer_ids():
        customer = await work.customer(payer_id)
        if customer is not None and customer.state.history_open:
            link.update_payer(customer, payer_id, work.now)
