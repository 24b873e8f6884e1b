"""The messages the relay publishes, as projections read them: events and watermarks,
each signed (see `signatures`).

An event goes to the `customers` topic exchange under its routing key (other services
bind there too) with its stream in `x-crm-stream`, which each projection's consistent-hash
exchange hashes to pick the partition: one customer, one partition. A watermark goes to
the `crm.watermarks` fanout exchange, which every projection partition queue is bound to.
"""

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from application.events import ProjectionMessage, RecordedEvent, Watermark
from infrastructure.event_codec import from_message_body, to_message_body
from infrastructure.messaging.signatures import MessageSigner

KIND = "x-crm-kind"
SIGNATURE = "x-crm-signature"
STREAM = "x-crm-stream"
EVENT_KIND = "event"
WATERMARK_KIND = "watermark"


def event_message(recorded: RecordedEvent, signer: MessageSigner) -> aio_pika.Message:
    body = to_message_body(recorded)
    return aio_pika.Message(
        body=body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=recorded.event_id,
        correlation_id=recorded.metadata.correlation_id,
        timestamp=recorded.recorded_at,
        type=recorded.event.routing_key,
        headers={
            KIND: EVENT_KIND,
            STREAM: recorded.stream_id,
            SIGNATURE: signer.sign(EVENT_KIND, body),
            "x-crm-position": recorded.position,
            "x-crm-version": recorded.version,
        },
    )


def watermark_message(watermark: Watermark, signer: MessageSigner) -> aio_pika.Message:
    body = watermark.model_dump_json().encode()
    return aio_pika.Message(
        body=body,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        type="crm.watermark",
        headers={KIND: WATERMARK_KIND, SIGNATURE: signer.sign(WATERMARK_KIND, body)},
    )


class ProjectionMessageDecoder:
    def __init__(self, signer: MessageSigner):
        self._signer = signer

    def __call__(self, message: AbstractIncomingMessage) -> ProjectionMessage:
        headers = message.headers or {}
        kind = headers.get(KIND, EVENT_KIND)
        self._signer.verify(str(kind), message.body, headers.get(SIGNATURE))
        if kind == WATERMARK_KIND:
            return Watermark.model_validate_json(message.body)
        return from_message_body(message.body)
