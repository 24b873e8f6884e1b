from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Checkpoints, Clock
from infrastructure.mongo.documents import Checkpoint


class MongoCheckpoints(Checkpoints):
    def __init__(self, database: AsyncDatabase, clock: Clock):
        self._checkpoints = database[Checkpoint.Settings.name]
        self._clock = clock

    async def save(self, name: str, position: int) -> None:
        # $max: a checkpoint never moves back, even if an older batch finishes last.
        await self._checkpoints.update_one(
            {"_id": name}, {"$max": {"position": position}, "$set": {"updated_at": self._clock.now()}}, upsert=True
        )

    async def load(self, name: str) -> int:
        document = await self._checkpoints.find_one({"_id": name})
        return document["position"] if document else 0

    async def claim_version(self, name: str, version: int) -> None:
        """Records which projection code builds a read model that starts from nothing."""
        await self._checkpoints.update_one(
            {"_id": name}, {"$setOnInsert": {"position": 0, "projection_version": version}}, upsert=True
        )

    async def mark_rebuilt(self, name: str, position: int, version: int) -> None:
        await self._checkpoints.update_one(
            {"_id": name},
            {"$max": {"position": position}, "$set": {"projection_version": version, "updated_at": self._clock.now()}},
            upsert=True,
        )

    async def read(self, name: str) -> dict | None:
        return await self._checkpoints.find_one({"_id": name})
