"""Dropping a read model's old generation in the background, once nobody can write it.

A rebuild ends when readers and projectors have moved to the new generation; the old one
is then *retired* (`read_models.retired`, with the time), not dropped on the spot: a
projector batch that began before it saw the switch may still write it for up to twice
the settling time, and on SecantusDB emptying it takes minutes at 100,000 customers
(about 400 documents/s, in small deletes that readers pass between; see
`read_model_builds.drop_in_batches`). The projectors drop each retired generation once that time is
past; dropping the same one twice (two projector replicas) does nothing the second time.
"""

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Clock
from application.stopping import repeat_until_stopped
from infrastructure.mongo.documents import ReadModelGeneration
from infrastructure.mongo.read_model_builds import drop_in_batches
from infrastructure.mongo.read_model_generations import collection_name

log = structlog.get_logger(__name__)
POLL_SECONDS = 1.0


class RetiredGenerations:
    def __init__(
        self,
        database: AsyncDatabase,
        bases: Mapping[str, Sequence[str]],
        clock: Clock,
        unused_after_seconds: float,
        drop_batch: int,
    ):
        self._database = database
        self._documents = database[ReadModelGeneration.Settings.name]
        # The collections of each projection, by base name.
        self._bases = bases
        self._clock = clock
        self._unused_after = timedelta(seconds=unused_after_seconds)
        self._drop_batch = drop_batch

    async def pending(self) -> dict[str, list[int]]:
        """The retired generations of each projection not dropped yet."""
        return {
            document["_id"]: [entry["generation"] for entry in document["retired"]]
            async for document in self._documents.find({"retired.0": {"$exists": True}})
        }

    async def drop_due(self) -> int:
        """Drops every retired generation past its time; returns how many it dropped."""
        dropped = 0
        unused_since = self._clock.now() - self._unused_after
        async for document in self._documents.find({"retired.0": {"$exists": True}}):
            projection = document["_id"]
            for entry in document["retired"]:
                if entry["at"] > unused_since:
                    continue
                for base in self._bases.get(projection, ()):
                    await drop_in_batches(self._database, collection_name(base, entry["generation"]), self._drop_batch)
                await self._documents.update_one({"_id": projection}, {"$pull": {"retired": entry}})
                log.info("old generation dropped", projection=projection, generation=entry["generation"])
                dropped += 1
        return dropped

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.drop_due, POLL_SECONDS, stop, "dropping retired generations failed")
