"""Publishes what the event store committed, each business's log in order, at least once.

The event store is the outbox: an append commits its events with their positions in the
business's log, in one transaction. The relay holds a lease on some log partitions (every
business belongs to one, by a hash of its id) and, for each business of those partitions,
follows the business's positions: it reads what was appended after the position it
published last, publishes it with confirms, then tells every projection partition how far
the business's log now is (a watermark) and only then records the new position, fenced by
the lease's epoch. A crash at any point makes the next holder publish again, never skip.
Consumers drop duplicates by stream version.

While it holds a lease, the relay is the only writer of its partition's progress, so it
keeps what it recorded in memory and reads the stored progress once per lease epoch and
business: a batch costs the heads, the log reads and one progress write. A business whose
append announced its head (the wake, see `AppendSignal`) needs no heads read: its log is
read up to that head, and the relay records as published only what it read.

Two relays never both publish a partition: a relay that loses its lease (it was paused
for longer than the lease lasts) finds out at its next `record` at the latest, and the
caller stops it from publishing before its lease can have expired (see `RelayWorker`).
"""

from collections.abc import Collection, Mapping

import structlog

from application.events import RecordedEvent
from application.ports import EventPublisher, EventStore, Lease, LeaseLost, RelayProgress

log = structlog.get_logger(__name__)


class OutboxRelay:
    def __init__(self, event_store: EventStore, progress: RelayProgress, publisher: EventPublisher, batch_size: int):
        self._event_store = event_store
        self._progress = progress
        self._publisher = publisher
        self.batch_size = batch_size
        # (partition, epoch) -> business -> position published: valid while that lease is.
        self._published: dict[tuple[int, int], dict[str, int]] = {}

    async def publish_pending(
        self, lease: Lease, business_ids: Collection[str], announced: Mapping[str, int] | None = None
    ) -> int:
        """Publishes up to a batch of what these businesses appended and the relay has not
        published yet; returns how many events it went through (0: all caught up).
        `announced` gives the heads some of them announced: those are not read again."""
        if not business_ids:
            return 0
        announced = announced or {}
        unknown = [business_id for business_id in business_ids if business_id not in announced]
        heads = {**(await self._event_store.heads_of(unknown) if unknown else {}), **announced}
        published = await self._published_by(lease, list(heads))
        budget = self.batch_size
        batch: list[RecordedEvent] = []
        reached: dict[str, int] = {}
        for business_id, head in sorted(heads.items()):
            start = published.get(business_id, 0)
            if head <= start or budget <= 0:
                continue
            end = min(head, start + budget)
            events = await self._event_store.read_log(business_id, start, end)
            if business_id in announced:
                # An announced head is trusted only as far as the log shows it.
                if not events:
                    continue
                end = events[-1].position
            budget -= len(events)
            batch.extend(events)
            reached[business_id] = end
        if not reached:
            return 0
        # The order and payment links are bookkeeping: stored, never published.
        await self._publisher.publish([recorded for recorded in batch if recorded.event.published])
        await self._publisher.publish_watermarks(reached)
        try:
            await self._progress.record(lease, reached)
        except LeaseLost:
            self._forget(lease.partition)
            raise
        published.update(reached)
        log.debug("relayed", events=len(batch), businesses=len(reached), partition=lease.partition)
        return len(batch)

    async def _published_by(self, lease: Lease, business_ids: list[str]) -> dict[str, int]:
        key = (lease.partition, lease.epoch)
        if key not in self._published:
            self._forget(lease.partition)  # another epoch's record is someone else's since
            self._published[key] = {}
        known = self._published[key]
        unknown = [business_id for business_id in business_ids if business_id not in known]
        if unknown:
            stored = await self._progress.published(unknown)
            known.update({business_id: stored.get(business_id, 0) for business_id in unknown})
        return known

    def _forget(self, partition: int) -> None:
        for key in [key for key in self._published if key[0] == partition]:
            del self._published[key]

    async def catch_up(self, lease: Lease, business_ids: Collection[str]) -> int:
        """Publishes everything these businesses appended, batch after batch."""
        total = 0
        while True:
            published = await self.publish_pending(lease, business_ids)
            total += published
            if published < self.batch_size:  # a batch that was not full left nothing behind
                return total
