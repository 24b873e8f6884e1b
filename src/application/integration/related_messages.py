"""Which messages of a batch are about the same things, so go one after the other.

Messages that share an order, a payment, a customer id or a contact (an email or a phone
as sent) form one chain, handled in delivery order; chains go concurrently. Two messages
about the same customer would otherwise decide on the same version, and all but one
decide again. This is an economy, not a guarantee: a phone written two ways still meets
its other self in the event store, which refuses the stale decision.
"""

from collections.abc import Iterable, Sequence

from application.integration.messages import (
    InboundMessage,
    OrderPlaced,
    PaymentFailed,
    PaymentRefunded,
    PaymentSucceeded,
    Person,
)


def chains(batch: Sequence[InboundMessage]) -> list[list[InboundMessage]]:
    """The batch split into chains of related messages, each in delivery order, the chains
    in the order of their first message."""
    parent = list(range(len(batch)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_with: dict[str, int] = {}
    for index, message in enumerate(batch):
        for key in _keys(message):
            other = first_with.setdefault(key, index)
            parent[root(index)] = root(other)
    grouped: dict[int, list[InboundMessage]] = {}
    for index, message in enumerate(batch):
        grouped.setdefault(root(index), []).append(message)
    return list(grouped.values())


def _keys(message: InboundMessage) -> set[str]:
    business = message.business_id
    order_id = getattr(message.data, "order_id", None)
    keys = {f"{business}|order|{order_id}"} if order_id else set()
    match message:
        case OrderPlaced(data=placed):
            keys |= _people_keys(business, [*([placed.booker] if placed.booker else []), *placed.attendees])
        case PaymentSucceeded(data=payment) | PaymentFailed(data=payment):
            keys |= {f"{business}|payment|{payment.payment_id}"} | _people_keys(business, [payment.payer])
        case PaymentRefunded(data=refunded):
            keys.add(f"{business}|payment|{refunded.payment_id}")
    return keys


def _people_keys(business: str, people: Iterable[Person]) -> set[str]:
    keys = set()
    for person in people:
        for kind, value in (("customer", person.customer_id), ("email", person.email), ("phone", person.phone)):
            if value:
                keys.add(f"{business}|{kind}|{value.strip().lower()}")
    return keys
