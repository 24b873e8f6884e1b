"""Projection checkpoints: per projection and business, how far each partition got.

One document per (projection, business) holds a position per partition; a reader of the
business's read model waits until the lowest of them reaches its `min_position`. A
partition writes only its own field, with `$max`, so replicas never overwrite each other
and a checkpoint never moves back.
"""

import asyncio
from collections.abc import Mapping

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Checkpoints, Clock
from infrastructure.mongo.documents import Checkpoint, ProjectionState


class MongoCheckpoints(Checkpoints):
    def __init__(self, database: AsyncDatabase, clock: Clock, partitions: int):
        self._checkpoints = database[Checkpoint.Settings.name]
        self._projections = database[ProjectionState.Settings.name]
        self._clock = clock
        self._partitions = partitions
        # (projection, business) -> partition -> position, saved but not yet written
        self._pending: dict[tuple[str, str], dict[int, int]] = {}
        self._stored: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def save(self, projection: str, partition: int, reached: Mapping[str, int]) -> None:
        """Records how far a partition got. The partitions of every projection in this
        process share the writes: what they save while one write is in flight goes out
        together in the next (one round trip), and each returns once its part is stored."""
        if not reached:
            return
        for business_id, position in reached.items():
            positions = self._pending.setdefault((projection, business_id), {})
            positions[partition] = max(position, positions.get(partition, 0))
        if self._stored is None:
            self._stored = asyncio.get_running_loop().create_future()
        stored = self._stored
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())
        await asyncio.shield(stored)

    async def _write_pending(self) -> None:
        while self._pending:
            pending, self._pending = self._pending, {}
            stored, self._stored = self._stored, None
            now = self._clock.now()
            try:
                await self._checkpoints.bulk_write(
                    [
                        UpdateOne(
                            {"_id": f"{projection}|{business_id}"},
                            {
                                "$max": {
                                    f"partitions.{partition}": position for partition, position in positions.items()
                                },
                                "$set": {"projection": projection, "business_id": business_id, "updated_at": now},
                            },
                            upsert=True,
                        )
                        for (projection, business_id), positions in pending.items()
                    ],
                    ordered=False,
                )
            except Exception as error:  # each saver's batch fails with it, and is retried
                if stored is not None and not stored.done():
                    stored.set_exception(error)
                    stored.exception()  # retrieved here too: a saver that stopped waiting is fine
                continue
            if stored is not None and not stored.done():
                stored.set_result(None)

    async def reached(self, projection: str, business_id: str) -> int:
        document = await self._checkpoints.find_one({"_id": f"{projection}|{business_id}"})
        return self.lowest(document)

    def lowest(self, document: dict | None) -> int:
        if document is None:
            return 0
        partitions = document.get("partitions", {})
        return min(partitions.get(str(partition), 0) for partition in range(self._partitions))

    async def of_projection(self, projection: str) -> dict[str, int]:
        """Every business's checkpoint of the projection (for `crm projections status`)."""
        cursor = self._checkpoints.find({"projection": projection})
        return {document["business_id"]: self.lowest(document) async for document in cursor}

    async def claim_version(self, name: str, version: int) -> None:
        """Records which projection code builds a read model that starts from nothing."""
        await self._projections.update_one(
            {"_id": name}, {"$setOnInsert": {"projection_version": version}}, upsert=True
        )

    async def mark_rebuilt(self, name: str, version: int) -> None:
        await self._projections.update_one(
            {"_id": name}, {"$set": {"projection_version": version, "rebuilt_at": self._clock.now()}}, upsert=True
        )

    async def read(self, name: str) -> dict | None:
        return await self._projections.find_one({"_id": name})
