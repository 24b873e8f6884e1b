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
