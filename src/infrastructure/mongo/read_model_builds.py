"""A read model built as the next generation of its collections (see `read_model_generations`).

The build's collections get their indexes while they are empty (an index build blocks
SecantusDB for seconds on a full collection; on an empty one it is instant), then the bulk
load maintains them. Switching generations is one small update each; only dropping the
old generation costs the server time: on SecantusDB a drop blocks every client until it
ends (a read waited 20 s while the read model of 10,000 customers went), so a collection
is first emptied in small deletes, which readers pass between (`drop_in_batches`); on
MongoDB a drop is metadata only (`drop_batch` 0 drops at once). The old generation is
dropped by the projectors, in the background (`retired_generations`).

A verify builds the same way into a scratch collection that is never switched in.
"""

import time
from collections.abc import Sequence

import structlog
from beanie import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Clock
from application.projections.rebuild import NoRebuildToResume, ReadModelBuild, RebuildInProgress
from infrastructure.mongo.bulk_writes import CommandSizer
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.documents import ProjectionBuild
from infrastructure.mongo.read_model_generations import Generations, ReadModelCollections, collection_name

log = structlog.get_logger(__name__)
PROGRESS_LOG_SECONDS = 10.0


class MongoReadModelBuild(ReadModelBuild):
    def __init__(
        self,
        database: AsyncDatabase,
        collections: ReadModelCollections,
        checkpoints: MongoCheckpoints,
        clock: Clock,
        projection: str,
        version: int,
        documents: Sequence[type[Document]],
        settle_seconds: float,
        purpose: str = "rebuild",
        drop_batch: int = 0,
    ):
        self.projection = projection
        self.settle_seconds = settle_seconds
        self._database = database
        self._collections = collections
        self._checkpoints = checkpoints
        self._clock = clock
        self._version = version
        self._documents = list(documents)
        self._purpose = purpose
        self._drop_batch = drop_batch
        self._state_id = f"{purpose}:{projection}"
        self._builds = database[ProjectionBuild.Settings.name]
        self.resumed = False
        self._generation = 0
        self._previous = Generations(0, (0,))

    async def pending(self) -> dict | None:
        return await self._builds.find_one({"_id": self._state_id})

    async def begin(self, resume: bool) -> dict[str, int]:
        state = await self.pending()
        if resume:
            if state is None:
                raise NoRebuildToResume(self.projection)
            self._adopt(state)
            self.resumed = True
            return dict(state.get("positions", {}))
        if state is not None:
            raise RebuildInProgress(self.projection)
        self._previous = await self._collections.generations(self.projection)
        self._generation = max(self._previous.write) + 1
        for document in self._documents:
            name = self.naming(document.Settings.name)  # type: ignore[attr-defined]
            await self._database.drop_collection(name)
            await self._database.create_collection(name)
            indexes = getattr(document.Settings, "indexes", [])
            if indexes:
                await self._database[name].create_indexes(indexes)
        now = self._clock.now()
        await self._builds.insert_one(
            {
                "_id": self._state_id,
                "projection": self.projection,
                "generation": self._generation,
                "previous": {"read": self._previous.read, "write": list(self._previous.write)},
                "positions": {},
                "projection_version": self._version,
                "started_at": now,
                "updated_at": now,
            }
        )
        return {}

    def naming(self, base: str) -> str:
        """The collection the build writes a document's base name to."""
        if self._purpose == "rebuild":
            return collection_name(base, self._generation)
        return f"{base}__{self._purpose}"

    def _adopt(self, state: dict) -> None:
        self._generation = state.get("generation", 0)
        previous = state.get("previous", {"read": 0, "write": [0]})
        self._previous = Generations(previous["read"], tuple(previous["write"]))

    async def record_progress(self, business_id: str, position: int) -> None:
        await self._builds.update_one(
            {"_id": self._state_id},
            {"$max": {f"positions.{business_id}": position}, "$set": {"updated_at": self._clock.now()}},
        )

    async def start_dual_writes(self) -> None:
        previous, new = self._previous.read, self._generation
        await self._collections.set(self.projection, Generations(previous, (previous, new)))

    async def switch_reads(self) -> None:
        previous, new = self._previous.read, self._generation
        await self._collections.set(self.projection, Generations(new, (previous, new)))

    async def finish(self) -> None:
        await self._collections.set(self.projection, Generations(self._generation, (self._generation,)))
        await self._checkpoints.mark_rebuilt(self.projection, self._version)
        await self._builds.delete_one({"_id": self._state_id})

    async def retire_previous(self) -> None:
        old = sorted({self._previous.read, *self._previous.write} - {self._generation})
        await self._collections.retire(self.projection, old, self._clock.now())

    async def abandon(self) -> None:
        state = await self.pending()
        if state is not None:
            self._adopt(state)
            if self._purpose == "rebuild":
                # Back to the generations before the build, whatever step it stopped at.
                await self._collections.set(self.projection, self._previous)
            for base in self._bases():
                await self._drop(self.naming(base))
            await self._builds.delete_one({"_id": self._state_id})

    async def _drop(self, name: str) -> None:
        await drop_in_batches(self._database, name, self._drop_batch)

    def _bases(self) -> list[str]:
        return [document.Settings.name for document in self._documents]  # type: ignore[attr-defined]


async def drop_in_batches(database: AsyncDatabase, name: str, batch: int) -> None:
    """Drops the collection; with `batch`, empties it first `batch` documents at a time."""
    if batch:
        await _empty(database[name], batch)
    await database.drop_collection(name)


async def _empty(collection: AsyncCollection, batch_size: int) -> None:
    """Deletes the collection's documents at most `batch_size` at a time, in deletes sized to
    hold readers briefly (`CommandSizer`), logging its progress (at 100,000 customers this
    takes minutes, on SecantusDB: about 400 documents/s)."""
    total = await collection.estimated_document_count()
    if not total:
        return
    log.info("emptying the old generation", collection=collection.name, documents=total)
    deleted, batch, logged_at = 0, [], time.monotonic()
    sizer = CommandSizer(most=batch_size)

    async def delete(ids: list[str]) -> int:
        began = time.perf_counter()
        count = (await collection.delete_many({"_id": {"$in": ids}})).deleted_count
        sizer.took(len(ids), time.perf_counter() - began)
        return count

    # One cursor over the collection: a range query per batch would make SecantusDB
    # read the whole remaining range each time.
    async for document in collection.find({}, {"_id": 1}).batch_size(batch_size):
        batch.append(document["_id"])
        if len(batch) >= sizer.size:
            deleted += await delete(batch)
            batch = []
            if time.monotonic() - logged_at > PROGRESS_LOG_SECONDS:
                log.info("emptying the old generation", collection=collection.name, deleted=deleted, of=total)
                logged_at = time.monotonic()
    if batch:
        deleted += await delete(batch)
    log.info("old generation emptied", collection=collection.name, deleted=deleted)
