"""How far the relay and each projection are behind the businesses' logs.

Each reads every business's head and follower position: O(businesses), for `crm ...
status` and for the gauges, which refresh at most every few seconds (`ScrapeGauges`).
The age of the oldest pending event is read for at most `OLDEST_PROBES` businesses
(the furthest behind), one indexed read each.
"""

from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.documents import BusinessLog, StoredEvent
from infrastructure.mongo.documents import RelayProgress as RelayProgressDocument

OLDEST_PROBES = 20


@dataclass(frozen=True)
class Lag:
    # Events appended and not yet followed, over every business.
    events: int
    businesses_behind: int
    # When the oldest event not yet followed was recorded; None when caught up.
    oldest_pending_recorded_at: datetime | None

    def seconds(self, now: datetime) -> float:
        if self.oldest_pending_recorded_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_pending_recorded_at).total_seconds())


async def heads(database: AsyncDatabase) -> dict[str, int]:
    cursor = database[BusinessLog.Settings.name].find({}, {"head": 1})
    return {document["_id"]: document["head"] async for document in cursor}


async def relay_lag(database: AsyncDatabase) -> Lag:
    cursor = database[RelayProgressDocument.Settings.name].find({}, {"published": 1})
    published = {document["_id"]: document["published"] async for document in cursor}
    return await _lag(database, await heads(database), published)


async def projection_lag(database: AsyncDatabase, checkpoints: MongoCheckpoints, projection: str) -> Lag:
    return await _lag(database, await heads(database), await checkpoints.of_projection(projection))


async def _lag(database: AsyncDatabase, heads: dict[str, int], followed: dict[str, int]) -> Lag:
    behind = {business_id: head - followed.get(business_id, 0) for business_id, head in heads.items()}
    behind = {business_id: count for business_id, count in behind.items() if count > 0}
    oldest: datetime | None = None
    furthest = sorted(behind, key=behind.__getitem__, reverse=True)[:OLDEST_PROBES]
    for business_id in furthest:
        first = await database[StoredEvent.Settings.name].find_one(
            {"business_id": business_id, "position": followed.get(business_id, 0) + 1}, {"recorded_at": 1}
        )
        if first is not None and (oldest is None or first["recorded_at"] < oldest):
            oldest = first["recorded_at"]
    return Lag(sum(behind.values()), len(behind), oldest)
