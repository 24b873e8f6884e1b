from application.ports import Checkpoints, Clock
from infrastructure.mongo.documents import Checkpoint


class MongoCheckpoints(Checkpoints):
    def __init__(self, clock: Clock):
        self._clock = clock

    async def save(self, name: str, position: int) -> None:
        # $max: a checkpoint never moves back, even if an older batch finishes last.
        await Checkpoint.get_pymongo_collection().update_one(
            {"_id": name}, {"$max": {"position": position}, "$set": {"updated_at": self._clock.now()}}, upsert=True
        )

    async def load(self, name: str) -> int:
        document = await Checkpoint.get_pymongo_collection().find_one({"_id": name})
        return document["position"] if document else 0
