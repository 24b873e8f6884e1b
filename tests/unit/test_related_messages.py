"""Which messages of an inbound batch form a chain (handled in order) and which go at once."""

import json

from application.integration.related_messages import chains
from infrastructure.messaging.inbound_codec import decode_inbound
from tests.inbound import envelope, order_completed, order_placed, payment_succeeded, refund


def decoded(event_type: str, data: dict, business_id: str = "biz_1"):
    return decode_inbound(json.dumps(envelope(event_type, data, business_id=business_id)).encode())


def person(email: str) -> dict:
    return {"first_name": "Ana", "email": email}


def ids(groups) -> list[list[str]]:
    return [[message.message_id for message in chain] for chain in groups]


def test_unrelated_messages_go_at_once_and_related_ones_in_delivery_order():
    ana_1 = decoded("order.placed", order_placed("ord_1", booker=person("ana@example.com"), attendees=[]))
    rui = decoded("order.placed", order_placed("ord_2", booker=person("rui@example.com"), attendees=[]))
    ana_2 = decoded("order.placed", order_placed("ord_3", booker=None, attendees=[person(" ANA@example.com")]))
    completed = decoded("order.completed", order_completed("ord_2"))
    other_business = decoded(
        "order.placed", order_placed("ord_1", booker=person("ana@example.com"), attendees=[]), business_id="biz_2"
    )
    batch = [ana_1, rui, ana_2, completed, other_business]

    assert ids(chains(batch)) == ids([[ana_1, ana_2], [rui, completed], [other_business]])


def test_a_payment_joins_its_order_and_its_refund_and_links_two_chains():
    placed = decoded("order.placed", order_placed("ord_1", booker=person("ana@example.com"), attendees=[]))
    other = decoded("order.placed", order_placed("ord_9", booker=person("rui@example.com"), attendees=[]))
    paid = decoded("payment.succeeded", payment_succeeded("pay_1", order_id="ord_1", payer=person("rui@example.com")))
    refunded = decoded("payment.refunded", refund("ref_1", 500, payment_id="pay_1"))
    alone = decoded("payment.refunded", refund("ref_2", 500, payment_id="pay_2"))

    assert ids(chains([placed, other, paid, refunded, alone])) == ids([[placed, other, paid, refunded], [alone]])
