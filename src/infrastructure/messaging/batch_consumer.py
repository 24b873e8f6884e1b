"""Consumes a queue in batches, because the database behind each handler is the bottleneck.

A batch is what is waiting (up to `batch_size`), taken within a short window. Each
message ends in exactly one of two places: handled and acknowledged, or parked in the
queue's dead-letter queue with the reason in its headers. Transient failures (database
or broker away) are retried with backoff for as long as it takes and never parked; other
failures are retried message by message and parked after `max_attempts`. A parked
message carries `x-crm-reason` (readable) and `x-crm-reason-code` (the decoder's
`reason_code`, `undecodable`, or `failed` for a handler that kept failing).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from infrastructure.messaging.failures import AMQP_SETUP_SECONDS, is_transient
from infrastructure.observability.metrics import CONSUMED

T = TypeVar("T")
log = structlog.get_logger(__name__)

MAX_REASON_LENGTH = 1000
# Messages published together (an event and the watermark behind it, a burst of a batch)
# arrive within this of each other. A batch stops growing at the first longer gap instead
# of waiting out the whole window: a lone message is handled at once, not a window later.
ARRIVAL_GAP_SECONDS = 0.002


class BatchConsumer(Generic[T]):
    def __init__(
        self,
        channel: AbstractChannel,
        queue: AbstractQueue,
        dead_letter_exchange: str,
        dead_letter_routing_key: str,
        decode: Callable[[AbstractIncomingMessage], T],
        handle: Callable[[Sequence[T]], Awaitable[object]],
        batch_size: int,
        batch_window_seconds: float,
        max_attempts: int,
        stream: str | None = None,
        arrival_gap_seconds: float | None = ARRIVAL_GAP_SECONDS,
    ):
        self._channel = channel
        self._queue = queue
        # Metrics count per stream (a projection, an inbound exchange), not per partition.
        self._stream = stream or queue.name
        self._dead_letter_exchange = dead_letter_exchange
        self._dead_letter_routing_key = dead_letter_routing_key
        self._decode = decode
        self._handle = handle
        self._batch_size = batch_size
        self._window = batch_window_seconds
        self._max_attempts = max_attempts
        self._gap = arrival_gap_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Consumes until `stop`. The caller then closes the channel, which hands back what
        was delivered and not handled (no cancel first: on a single-active-consumer queue,
        the next consumer would take over while those are still held here, and get later
        messages before them)."""
        incoming = _Incoming()
        await asyncio.wait_for(self._queue.consume(incoming.put), timeout=AMQP_SETUP_SECONDS)
        loop = asyncio.get_running_loop()
        closed_since: float | None = None
        try:
            while not stop.is_set():
                # The robust channel comes back with its consumer after a reconnect; one that
                # stays closed (its restore failed) would leave this loop waiting for good.
                if not self._channel.is_closed:
                    closed_since = None
                elif closed_since is None:
                    closed_since = loop.time()
                elif loop.time() - closed_since > AMQP_SETUP_SECONDS:
                    raise ConnectionError(f"the channel of {self._stream} stayed closed")
                batch = await self._collect(incoming, stop)
                if batch:
                    await self._process(batch, stop)
        finally:
            incoming.close()

    async def _collect(self, incoming: "_Incoming", stop: asyncio.Event) -> list[AbstractIncomingMessage]:
        """What has arrived, up to a batch: more is taken while it keeps coming (gaps under
        `ARRIVAL_GAP_SECONDS`), for at most the window; with no window, a batch is whatever
        came in while the last one was being handled."""
        first = await incoming.next(timeout=0.2)
        if first is None:
            return []
        batch = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._window
        while len(batch) < self._batch_size and not stop.is_set():
            now = loop.time()
            until = deadline if self._gap is None else min(deadline, now + self._gap)
            message = await incoming.next(timeout=max(0.0, until - now))
            if message is None:
                break
            batch.append(message)
        return batch

    async def _process(self, messages: list[AbstractIncomingMessage], stop: asyncio.Event) -> None:
        decoded: list[tuple[AbstractIncomingMessage, T]] = []
        for message in messages:
            try:
                decoded.append((message, self._decode(message)))
            except Exception as error:  # whatever a body does to the decoder, it is parked, not fatal
                code = getattr(error, "reason_code", "undecodable")
                await self._park(message, f"undecodable message: {error}", attempts=1, reason_code=code)
                await message.ack()
        if not decoded:
            return
        try:
            await self._with_transient_retries([value for _, value in decoded], stop)
        except _Stopping:
            await _nack_all(decoded)
            return
        except Exception:
            log.exception("batch failed; handling its messages one by one")
            await self._handle_one_by_one(decoded, stop)
            return
        await decoded[-1][0].ack(multiple=True)
        CONSUMED.labels(self._stream, "handled").inc(len(decoded))

    async def _handle_one_by_one(self, decoded: list[tuple[AbstractIncomingMessage, T]], stop: asyncio.Event) -> None:
        for index, (message, value) in enumerate(decoded):
            try:
                await self._handle_alone(message, value, stop)
            except _Stopping:
                await _nack_all(decoded[index:])
                return
            await message.ack()

    async def _handle_alone(self, message: AbstractIncomingMessage, value: T, stop: asyncio.Event) -> None:
        """Handles one message, or parks it once it has failed `max_attempts` times."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._with_transient_retries([value], stop)
                CONSUMED.labels(self._stream, "handled").inc()
                return
            except _Stopping:
                raise
            except Exception as error:
                if attempt == self._max_attempts:
                    await self._park(
                        message, f"{type(error).__name__}: {error}", attempts=attempt, reason_code="failed"
                    )
                    return
                await asyncio.sleep(0.05 * attempt)

    async def _with_transient_retries(self, values: Sequence[T], stop: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                await self._handle(values)
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                failures += 1
                log.warning("transient failure, retrying: %s", error)
                if stop.is_set():
                    raise _Stopping() from error
                await asyncio.sleep(min(0.05 * 2**failures, 5.0))

    async def _park(self, message: AbstractIncomingMessage, reason: str, attempts: int, reason_code: str) -> None:
        now = datetime.now(UTC).isoformat()
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-crm-reason": reason[:MAX_REASON_LENGTH],
                "x-crm-reason-code": reason_code,
                "x-crm-source-queue": self._queue.name,
                "x-crm-first-failure-at": headers.get("x-crm-first-failure-at", now),
                "x-crm-last-failure-at": now,
                "x-crm-attempts": attempts,
            }
        )
        parked = aio_pika.Message(
            body=message.body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type,
        )
        exchange = await self._channel.get_exchange(self._dead_letter_exchange, ensure=False)
        await exchange.publish(parked, routing_key=self._dead_letter_routing_key)
        CONSUMED.labels(self._stream, "parked").inc()
        log.warning("parked message %s: %s", message.message_id, reason)


class _Incoming:
    """Deliveries waiting to be batched.

    `asyncio.wait_for(queue.get(), timeout)` can lose an item on Python 3.11 when the
    timeout fires as the item arrives; a pending get is therefore kept, never cancelled,
    and picked up by the next call."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._pending: asyncio.Future[AbstractIncomingMessage] | None = None

    async def put(self, message: AbstractIncomingMessage) -> None:
        await self._queue.put(message)

    async def next(self, timeout: float) -> AbstractIncomingMessage | None:
        if self._pending is None and not self._queue.empty():
            return self._queue.get_nowait()
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._queue.get())
        done, _ = await asyncio.wait({self._pending}, timeout=timeout)
        if not done:
            return None
        message, self._pending = self._pending.result(), None
        return message

    def close(self) -> None:
        # Anything still here was never acknowledged: the broker delivers it again.
        if self._pending is not None:
            self._pending.cancel()


async def _nack_all(decoded: Sequence[tuple[AbstractIncomingMessage, object]]) -> None:
    for message, _ in decoded:
        await message.nack(requeue=True)


class _Stopping(Exception):
    """The worker is stopping while a batch waits on a transient failure: hand it back."""
