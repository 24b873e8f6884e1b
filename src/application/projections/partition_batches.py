"""A projection as one partition's consumer runs it: apply the batch's events, then record
the watermarks they complete.

A watermark says the relay has published a business's log up to a position; it arrives
behind every event of that business meant for this partition. Once the events in front of
it are applied, the partition's checkpoint for the business moves there, and a reader
waiting with `min_position` can go as soon as every partition has got there.
"""

from collections.abc import Awaitable, Callable, Sequence

from application.events import ProjectionMessage, RecordedEvent, Watermark
from application.ports import Checkpoints, ReadModelAnnouncer

ApplyEvents = Callable[[Sequence[RecordedEvent]], Awaitable[object]]


def split(batch: Sequence[ProjectionMessage]) -> tuple[list[RecordedEvent], dict[str, int]]:
    """The batch's events in order, and the furthest watermark of each business."""
    events: list[RecordedEvent] = []
    reached: dict[str, int] = {}
    for message in batch:
        if isinstance(message, Watermark):
            for business_id, position in message.published.items():
                reached[business_id] = max(position, reached.get(business_id, 0))
        else:
            events.append(message)
    return events, reached


class ProjectionPartition:
    def __init__(
        self,
        projection: str,
        partition: int,
        apply: ApplyEvents,
        checkpoints: Checkpoints,
        announcer: ReadModelAnnouncer,
    ):
        self._projection = projection
        self._partition = partition
        self._apply = apply
        self._checkpoints = checkpoints
        self._announcer = announcer

    async def __call__(self, batch: Sequence[ProjectionMessage]) -> None:
        events, reached = split(batch)
        if events:
            await self._apply(events)
        if reached:
            await self._checkpoints.save(self._projection, self._partition, reached)
        if events or reached:
            await self._announcer.announce()
