"""order.placed, order.completed, order.cancelled: one handler each.

Each records what it heard on the order's link, then brings the order's customers up to
date with everything the link knows. Before the placement is known there are no
customers yet, so a completion or cancellation waits on the link and is applied when the
placement arrives: the result is the same whatever order the messages come in.
"""

from application.integration.integration_changes import IntegrationChanges, IntegrationWork
from application.integration.messages import OrderCancelled, OrderCompleted, OrderPlaced
from domain.customer.purchases import OrderRole
from domain.integration.events import (
    OrderCancellationRecorded,
    OrderCompletionRecorded,
    OrderPlacementRecorded,
    Participant,
)
from domain.integration.links import OrderLink


class RecordOrderPlaced:
    def __init__(self, changes: IntegrationChanges):
        self._changes = changes

    async def execute(self, message: OrderPlaced) -> None:
        data = message.data

        async def decide(work: IntegrationWork) -> None:
            link = await work.order_link(data.order_id)
            if link.placement is None:
                participants, purchaser_id = await _match_participants(work, message)
                link.record_placement(
                    OrderPlacementRecorded(
                        occurred_at=work.now,
                        order_id=data.order_id,
                        placed_at=data.placed_at,
                        participants=participants,
                        purchaser_id=purchaser_id,
                        total_amount_minor=data.total_amount_minor,
                        currency=data.currency,
                        items_count=data.items_count,
                        service_ids=tuple(data.service_ids),
                    )
                )
            await update_participants(work, link)

        await self._changes.apply(message, decide)


class RecordOrderCompleted:
    def __init__(self, changes: IntegrationChanges):
        self._changes = changes

    async def execute(self, message: OrderCompleted) -> None:
        data = message.data

        async def decide(work: IntegrationWork) -> None:
            link = await work.order_link(data.order_id)
            link.record_completion(
                OrderCompletionRecorded(
                    occurred_at=work.now,
                    completed_at=data.completed_at,
                    total_amount_minor=data.total_amount_minor,
                    currency=data.currency,
                    items_count=data.items_count,
                )
            )
            await update_participants(work, link)

        await self._changes.apply(message, decide)


class RecordOrderCancelled:
    def __init__(self, changes: IntegrationChanges):
        self._changes = changes

    async def execute(self, message: OrderCancelled) -> None:
        data = message.data

        async def decide(work: IntegrationWork) -> None:
            link = await work.order_link(data.order_id)
            link.record_cancellation(
                OrderCancellationRecorded(occurred_at=work.now, cancelled_at=data.cancelled_at, reason=data.reason)
            )
            await update_participants(work, link)

        await self._changes.apply(message, decide)


async def _match_participants(
    work: IntegrationWork, message: OrderPlaced
) -> tuple[tuple[Participant, ...], str | None]:
    """The customers of the booker and the attendees, in order of appearance; the purchaser
    is the booker's, else the first attendee's. Two attendees with one email are one customer."""
    people = [(OrderRole.BOOKER, message.data.booker)] if message.data.booker else []
    people += [(OrderRole.ATTENDEE, attendee) for attendee in message.data.attendees]
    await work.read_holders(person for _, person in people)
    roles: dict[str, set[OrderRole]] = {}
    purchaser_id: str | None = None
    for role, person in people:
        customer = await work.resolve(person)
        if customer is None:
            continue
        roles.setdefault(customer.id, set()).add(role)
        if purchaser_id is None:
            purchaser_id = customer.id
    participants = tuple(
        Participant(customer_id=customer_id, roles=tuple(sorted(customer_roles)))
        for customer_id, customer_roles in roles.items()
    )
    return participants, purchaser_id


async def update_participants(work: IntegrationWork, link: OrderLink) -> None:
    if link.placement is None:
        return
    for participant in link.placement.participants:
        customer = await work.customer(participant.customer_id)
        if customer is not None and customer.state.history_open:
            link.update_participant(customer, participant, work.now)
