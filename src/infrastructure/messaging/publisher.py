import asyncio
from collections.abc import Sequence

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange

from application.events import RecordedEvent
from application.ports import EventPublisher
from infrastructure.event_codec import to_message_body
from infrastructure.observability.metrics import RELAY_PUBLISHED
from infrastructure.observability.tracing import tracer

log = structlog.get_logger(__name__)


class RabbitEventPublisher(EventPublisher):
    """Publishes to the `customers` topic exchange on a channel with publisher confirms."""

    def __init__(self, channel: AbstractChannel, exchange: AbstractExchange):
        self._channel = channel
        self._exchange = exchange

    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        # Frames go out in call order on one channel; confirms are awaited together.
        with tracer().start_as_current_span("relay publish", attributes={"crm.events": len(events)}):
            await asyncio.gather(*(self._publish_one(recorded) for recorded in events))
        RELAY_PUBLISHED.inc(len(events))
        for recorded in events:
            with structlog.contextvars.bound_contextvars(correlation_id=recorded.metadata.correlation_id):
                log.info("event published", event_id=recorded.event_id, event_type=recorded.event.routing_key,
                         customer_id=recorded.stream_id, position=recorded.position)

    async def _publish_one(self, recorded: RecordedEvent) -> None:
        message = aio_pika.Message(
            body=to_message_body(recorded),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=recorded.event_id,
            correlation_id=recorded.metadata.correlation_id,
            timestamp=recorded.recorded_at,
            type=recorded.event.routing_key,
            headers={"x-crm-position": recorded.position, "x-crm-version": recorded.version},
        )
        await self._exchange.publish(message, routing_key=recorded.event.routing_key)
