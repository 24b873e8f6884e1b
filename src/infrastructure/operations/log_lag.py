"""How far a follower of the global log (the relay, a projection) is behind the head."""

from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.documents import Checkpoint, PositionCounter, StoredEvent
from infrastructure.mongo.event_store import POSITION_COUNTER_ID


@dataclass(frozen=True)
class Lag:
    position: int
    head: int
    # When the oldest event not yet followed was recorded; None when caught up.
    oldest_pending_recorded_at: datetime | None

    @property
    def events(self) -> int:
        return max(0, self.head - self.position)

    def seconds(self, now: datetime) -> float:
        if self.oldest_pending_recorded_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_pending_recorded_at).total_seconds())


async def head_position(database: AsyncDatabase) -> int:
    counter = await database[PositionCounter.Settings.name].find_one({"_id": POSITION_COUNTER_ID})
    return counter["value"] if counter else 0


async def lag_of(database: AsyncDatabase, checkpoint: str, head: int | None = None) -> Lag:
    document = await database[Checkpoint.Settings.name].find_one({"_id": checkpoint})
    position = document["position"] if document else 0
    head = await head_position(database) if head is None else head
    oldest = None
    if head > position:
        # Reads one document through the unique `position` index.
        first = await database[StoredEvent.Settings.name].find_one(
            {"position": {"$gt": position}}, projection={"recorded_at": 1}, sort=[("position", 1)]
        )
        oldest = first["recorded_at"] if first else None
    return Lag(position, head, oldest)
