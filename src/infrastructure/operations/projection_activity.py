"""Wraps a live projection's handler: its rate, its last error, its metrics and logs.

The rate is written to `projection_activity` at most every `FLUSH_EVERY_SECONDS`, the last
error at once, for `crm projections status` to read from any machine. Every partition of
every projection writes its own document: at one write a second each, a projector of three
projections and four partitions cost the one-core embedded server 12 writes a second.
"""

import time
from collections.abc import Awaitable, Callable, Sequence

import structlog
from opentelemetry.trace import Link, SpanKind, get_current_span
from pymongo.asynchronous.database import AsyncDatabase

from application.events import RecordedEvent
from application.ports import Clock
from infrastructure.mongo.documents import ProjectionActivity
from infrastructure.observability.metrics import PROJECTION_APPLIED, PROJECTION_BATCH_SECONDS
from infrastructure.observability.tracing import context_of, tracer

log = structlog.get_logger(__name__)
FLUSH_EVERY_SECONDS = 5.0


class MonitoredProjection:
    def __init__(
        self,
        database: AsyncDatabase,
        clock: Clock,
        projection: str,
        partition: int,
        handle: Callable[[Sequence[RecordedEvent]], Awaitable[object]],
    ):
        self._activity = database[ProjectionActivity.Settings.name]
        self._clock = clock
        self._projection = projection
        # One document per partition: replicas each own some and never write the same one.
        self._activity_id = f"{projection}|{partition}"
        self._handle = handle
        self._window_start = time.monotonic()
        self._window_events = 0

    async def __call__(self, batch: Sequence[RecordedEvent]) -> object:
        started = time.monotonic()
        started_ns = time.time_ns()
        # A batch holds events of many traces: its span links to each, and each trace gets
        # a span of its own for its event, linked back to the batch.
        links = [Link(get_current_span(context).get_span_context()) for context in self._contexts(batch)]
        with tracer().start_as_current_span(f"project {self._projection}", links=links[:128]) as span:
            span.set_attribute("crm.events", len(batch))
            span.set_attribute("crm.correlation_ids", sorted({e.metadata.correlation_id for e in batch})[:20])
            try:
                outcome = await self._handle(batch)
            except Exception as error:
                await self._record_error(error)
                raise
        batch_link = Link(span.get_span_context())
        for recorded in batch:
            context = context_of(recorded.metadata.traceparent)
            if context is not None:
                tracer().start_span(
                    f"projected {self._projection} {recorded.event.routing_key}",
                    context=context,
                    kind=SpanKind.CONSUMER,
                    links=[batch_link],
                    start_time=started_ns,
                    attributes={"crm.event_id": recorded.event_id, "crm.version": recorded.version},
                ).end()
        PROJECTION_BATCH_SECONDS.labels(self._projection).observe(time.monotonic() - started)
        PROJECTION_APPLIED.labels(self._projection).inc(len(batch))
        for recorded in batch:
            with structlog.contextvars.bound_contextvars(correlation_id=recorded.metadata.correlation_id):
                log.info(
                    "event projected",
                    projection=self._projection,
                    event_id=recorded.event_id,
                    customer_id=recorded.stream_id,
                    version=recorded.version,
                    position=recorded.position,
                )
        await self._record_batch(len(batch))
        return outcome

    @staticmethod
    def _contexts(batch: Sequence[RecordedEvent]) -> list:
        contexts = (context_of(recorded.metadata.traceparent) for recorded in batch)
        return [context for context in contexts if context is not None]

    async def _record_batch(self, count: int) -> None:
        self._window_events += count
        elapsed = time.monotonic() - self._window_start
        if elapsed < FLUSH_EVERY_SECONDS:
            return
        rate = self._window_events / elapsed
        self._window_start, self._window_events = time.monotonic(), 0
        try:
            await self._activity.update_one(
                {"_id": self._activity_id},
                {
                    "$set": {
                        "projection": self._projection,
                        "events_per_second": round(rate, 1),
                        "last_batch_at": self._clock.now(),
                    }
                },
                upsert=True,
            )
        except Exception as error:  # the numbers are for ops; never fail a batch over them
            log.warning("could not record projection activity", error=str(error))

    async def _record_error(self, error: Exception) -> None:
        try:
            await self._activity.update_one(
                {"_id": self._activity_id},
                {
                    "$set": {
                        "projection": self._projection,
                        "last_error": f"{type(error).__name__}: {error}"[:1000],
                        "last_error_at": self._clock.now(),
                    }
                },
                upsert=True,
            )
        except Exception:
            pass
