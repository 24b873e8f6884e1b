"""Dropping a read model's old generation in the background, once nobody can write it.

A rebuild ends when readers and projectors have moved to the new generation; the old one
is then *retired* (`read_models.retired`, with the time), not dropped on the spot: a
projector batch that began before it saw the switch may still write it for up to twice
the settling time, and on SecantusDB emptying it takes minutes at 100,000 customers
(about 400 documents/s, in small deletes that readers pass between; see
`read_model_builds.drop_in_batches`). The projectors drop each retired generation once that time is
past; dropping the same one twice (two projector replicas) does nothing the second time.

A generation counts as dropped only once none of its collections is listed any more, and
now and then (`STRAY_SWEEP_SECONDS`) the projectors also drop *strays*: collections of a
generation older than every live one that no retired entry holds (a write that began
before the switch and landed after the drop makes its collection again). Nothing of an
old generation outlives its rebuild for long, whatever the timing.
"""

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta

import structlog
from pymongo.asynchronous.database import AsyncDatabase

from application.ports import Clock
from application.stopping import repeat_until_stopped
from infrastructure.mongo.documents import ReadModelGeneration
from infrastructure.mongo.read_model_builds import drop_in_batches
from infrastructure.mongo.read_model_generations import collection_name, generation_of

log = structlog.get_logger(__name__)
POLL_SECONDS = 1.0
STRAY_SWEEP_SECONDS = 30.0


def strays(document: Mapping, bases: Sequence[str], names: Sequence[str]) -> list[str]:
    """The collections of `bases` whose generation is older than every live one (read or
    written) and held by no retired entry."""
    oldest_live = min(document.get("read", 0), *document.get("write", [0]))
    retired = {entry["generation"] for entry in document.get("retired", [])}
    return sorted(
        name
        for name in names
        for base in bases
        if (generation := generation_of(name, base)) is not None
        and generation < oldest_live
        and generation not in retired
    )


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
        self._swept_at: float | None = None

    async def pending(self) -> dict[str, list[int]]:
        """The retired generations of each projection not dropped yet."""
        return {
            document["_id"]: [entry["generation"] for entry in document["retired"]]
            async for document in self._documents.find({"retired.0": {"$exists": True}})
        }

    async def drop_due(self) -> int:
        """Drops every retired generation past its time, and the strays now and then;
        returns how many generations (and stray collections) it dropped."""
        dropped = 0
        unused_since = self._clock.now() - self._unused_after
        sweep = self._swept_at is None or time.monotonic() - self._swept_at >= STRAY_SWEEP_SECONDS
        listed = await self._database.list_collection_names() if sweep else []
        async for document in self._documents.find({} if sweep else {"retired.0": {"$exists": True}}):
            projection, bases = document["_id"], self._bases.get(document["_id"], ())
            for entry in document.get("retired", []):
                if entry["at"] <= unused_since and await self._drop_generation(projection, bases, entry["generation"]):
                    await self._documents.update_one({"_id": projection}, {"$pull": {"retired": entry}})
                    log.info("old generation dropped", projection=projection, generation=entry["generation"])
                    dropped += 1
            if sweep:
                for name in strays(document, bases, listed):
                    log.warning(
                        "dropping a stray collection of an old generation", projection=projection, collection=name
                    )
                    await drop_in_batches(self._database, name, self._drop_batch)
                    dropped += 1
        if sweep:
            self._swept_at = time.monotonic()
        return dropped

    async def _drop_generation(self, projection: str, bases: Sequence[str], generation: int) -> bool:
        """Drops the generation's collections; True once none of them is listed any more."""
        names = [collection_name(base, generation) for base in bases]
        for name in names:
            await drop_in_batches(self._database, name, self._drop_batch)
        if left := sorted(set(names) & set(await self._database.list_collection_names())):
            log.warning("old generation still there after its drop", projection=projection, collections=left)
            return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        await repeat_until_stopped(self.drop_due, POLL_SECONDS, stop, "dropping retired generations failed")
