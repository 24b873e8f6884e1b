import asyncio
from collections.abc import Mapping, Sequence

import structlog
from aio_pika.abc import AbstractExchange
from opentelemetry.trace import SpanKind

from application.events import RecordedEvent, Watermark
from application.ports import EventPublisher
from infrastructure.messaging.projection_messages import event_message, watermark_message
from infrastructure.messaging.signatures import MessageSigner
from infrastructure.observability.metrics import RELAY_PUBLISHED
from infrastructure.observability.tracing import context_of, inject_into, tracer

log = structlog.get_logger(__name__)


class RabbitEventPublisher(EventPublisher):
    """Publishes events to the `customers` topic exchange and watermarks to the fanout
    exchange of the projections, on a channel with publisher confirms."""

    def __init__(self, customers: AbstractExchange, watermarks: AbstractExchange, signer: MessageSigner):
        self._customers = customers
        self._watermarks = watermarks
        self._signer = signer

    async def publish(self, events: Sequence[RecordedEvent]) -> None:
        if not events:
            return
        # Frames go out in call order on one channel; confirms are awaited together.
        await asyncio.gather(*(self._publish(recorded) for recorded in events))
        RELAY_PUBLISHED.inc(len(events))
        for recorded in events:
            log.info(
                "event published",
                correlation_id=recorded.metadata.correlation_id,
                event_id=recorded.event_id,
                event_type=recorded.event.routing_key,
                customer_id=recorded.stream_id,
                position=recorded.position,
            )

    async def _publish(self, recorded: RecordedEvent) -> None:
        # In the trace of the request that caused the event (its stored traceparent), which
        # the message carries on in its headers. Nothing awaits before the publish itself,
        # so the frames keep the order of the calls.
        with tracer().start_as_current_span(
            f"publish {recorded.event.routing_key}",
            context=context_of(recorded.metadata.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={"crm.event_id": recorded.event_id, "crm.position": recorded.position},
        ):
            message = event_message(recorded, self._signer)
            inject_into(message.headers)
            await self._customers.publish(message, routing_key=recorded.event.routing_key)

    async def publish_watermarks(self, published: Mapping[str, int]) -> None:
        # After the events' confirms: every partition queue holds those events before this.
        await self._watermarks.publish(watermark_message(Watermark(published=dict(published)), self._signer), "")
