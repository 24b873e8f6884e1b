"""A read model built in a collection of its own, then renamed onto the live name.

`renameCollection` with `dropTarget` replaces the live collection in one step on MongoDB,
and on SecantusDB too (checked: documents and indexes come from the build, the old
collection is gone). On MongoDB a rename within a database only changes metadata. On
SecantusDB it copies: about 0.85 ms per document, during which that one-core server
answers nothing else (8 s for 10,000 customers). The rename therefore runs on a client
of its own with long timeouts: the usual client's 2-second heartbeat would give up on the
busy server and cancel it. Building the indexes blocks it the same way (7 s for 10,000
customers), so it runs on that client too. Readers keep their collection *name*, so running API processes see
the new read model at once, without a restart or an alias to resolve.

Indexes are created after the bulk load (from the Beanie documents' `Settings.indexes`,
the source of truth) and before the swap: building them once is cheaper than keeping
them up to date through every bulk write.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from beanie import Document
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from application.projections.rebuild import NoRebuildToResume, ReadModelBuild, RebuildInProgress
from application.ports import Clock
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.mongo.documents import ProjectionBuild


RENAME_TIMEOUT_MS = 600_000


class MongoReadModelBuild(ReadModelBuild):
    def __init__(
        self,
        database: AsyncDatabase,
        checkpoints: MongoCheckpoints,
        clock: Clock,
        projection: str,
        version: int,
        document: type[Document],
        purpose: str = "rebuild",
        mongodb_url: str | None = None,
    ):
        self._mongodb_url = mongodb_url
        self.projection = projection
        self.live_collection: str = document.Settings.name  # type: ignore[attr-defined]
        self.collection = f"{self.live_collection}__{purpose}"
        self._database = database
        self._checkpoints = checkpoints
        self._clock = clock
        self._version = version
        self._document = document
        self._state_id = f"{purpose}:{projection}"
        self._builds = database[ProjectionBuild.Settings.name]

    async def begin(self, resume: bool) -> int:
        state = await self._builds.find_one({"_id": self._state_id})
        if resume:
            if state is None:
                raise NoRebuildToResume(self.projection)
            return state["position"]
        if state is not None:
            raise RebuildInProgress(self.projection, state["position"])
        await self._database.drop_collection(self.collection)
        now = self._clock.now()
        await self._builds.insert_one(
            {"_id": self._state_id, "projection": self.projection, "collection": self.collection, "position": 0,
             "projection_version": self._version, "started_at": now, "updated_at": now}
        )
        return 0

    async def record_progress(self, position: int) -> None:
        await self._builds.update_one(
            {"_id": self._state_id}, {"$max": {"position": position}, "$set": {"updated_at": self._clock.now()}}
        )

    async def prepare_for_swap(self) -> None:
        indexes = getattr(self._document.Settings, "indexes", [])
        async with self._patient_database() as database:
            if indexes:
                await database[self.collection].create_indexes(indexes)
            elif self.collection not in await database.list_collection_names():
                # An empty build has no collection yet; the rename needs one.
                await database.create_collection(self.collection)

    async def swap(self, position: int) -> None:
        name = self._database.name
        rename = {"renameCollection": f"{name}.{self.collection}", "to": f"{name}.{self.live_collection}",
                  "dropTarget": True}
        async with self._patient_database() as database:
            await database.client.admin.command(rename)
        await self._checkpoints.mark_rebuilt(self.projection, position, self._version)
        await self._builds.delete_one({"_id": self._state_id})

    @asynccontextmanager
    async def _patient_database(self) -> AsyncIterator[AsyncDatabase]:
        """The database on a client that waits for long server-side operations."""
        if self._mongodb_url is None:
            yield self._database
            return
        client: AsyncMongoClient = AsyncMongoClient(
            self._mongodb_url, connectTimeoutMS=RENAME_TIMEOUT_MS, serverSelectionTimeoutMS=RENAME_TIMEOUT_MS
        )
        try:
            yield client[self._database.name]
        finally:
            await client.close()

    async def abandon(self) -> None:
        await self._database.drop_collection(self.collection)
        await self._builds.delete_one({"_id": self._state_id})

    async def pending(self) -> dict | None:
        """The interrupted build, if there is one."""
        return await self._builds.find_one({"_id": self._state_id})
