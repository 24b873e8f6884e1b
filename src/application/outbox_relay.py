"""Publishes what the event store committed, in position order, at least once.

The event store is the outbox: an append commits its events with their global positions
in one transaction, and the relay follows those positions with a checkpoint. It moves
the checkpoint only after the broker confirmed the batch, so a crash between commit and
publish (or between publish and checkpoint) makes the next run publish again, never
skip. Consumers drop the duplicates by event version.
"""

import asyncio
import logging

from application.ports import Checkpoints, EventPublisher, EventStore, NewEventsSignal

RELAY_CHECKPOINT = "outbox_relay"

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        event_store: EventStore,
        checkpoints: Checkpoints,
        publisher: EventPublisher,
        new_events: NewEventsSignal,
        batch_size: int,
        idle_sleep_seconds: float,
    ):
        self._event_store = event_store
        self._checkpoints = checkpoints
        self._publisher = publisher
        self._new_events = new_events
        self._batch_size = batch_size
        self._idle_sleep = idle_sleep_seconds

    async def publish_next_batch(self) -> int:
        """Publishes the next batch after the checkpoint; returns how many events it sent."""
        position = await self._checkpoints.load(RELAY_CHECKPOINT)
        events = await self._event_store.read_all(position, self._batch_size)
        if not events:
            return 0
        # The order and payment links are bookkeeping: stored, never published.
        published = [recorded for recorded in events if recorded.event.published]
        if published:
            await self._publisher.publish(published)
        await self._checkpoints.save(RELAY_CHECKPOINT, events[-1].position)
        return len(events)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                published = await self.publish_next_batch()
                failures = 0
            except Exception:
                # Broker or database away: wait and try again, the checkpoint has not moved.
                failures += 1
                log.exception("outbox relay batch failed", extra={"attempt": failures})
                published = 0
                await _sleep_unless_stopped(stop, min(0.1 * 2**failures, 5.0))
                continue
            if published < self._batch_size and not stop.is_set():
                # Caught up: wait for the next append (or the idle timeout, as a safety net).
                await _first_of(stop.wait(), self._new_events.wait(self._idle_sleep))


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def _first_of(*awaitables) -> None:
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
