"""Which collections hold a projection's read model: generations, switched by one write.

A rebuild builds generation g+1 beside the live one; projectors then write both, readers
move to g+1, projectors stop writing g, and g is retired: dropped later, in the background
(`retired_generations`). Each step is one update of the
projection's document in `read_models`; every process re-reads those documents every
`refresh_seconds` (ahead of need, see `RefreshAhead`), so a switch is seen everywhere within that. Nothing is renamed or built
in place (a `renameCollection` or an index build blocks SecantusDB for seconds, and
neither works on a sharded collection): reads never wait on a switch.

A projection may keep several collections (customer_details keeps its views and their
search entries); they share its generation. Generation 0 of a collection is its plain
name; generation g is `<name>__g<g>`.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from infrastructure.mongo.documents import ReadModelGeneration
from infrastructure.refresh_ahead import RefreshAhead

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Generations:
    read: int
    write: tuple[int, ...]


def collection_name(base: str, generation: int) -> str:
    return base if generation == 0 else f"{base}__g{generation}"


def generation_of(name: str, base: str) -> int | None:
    """The generation a collection of `base` holds (`collection_name` read back), or None."""
    if name == base:
        return 0
    prefix = f"{base}__g"
    suffix = name[len(prefix) :]
    return int(suffix) if name.startswith(prefix) and suffix.isdigit() else None


def settle_seconds(refresh_seconds: float) -> float:
    """How long until every process has seen a switch of generations: every process re-reads
    them every `refresh_seconds`; twice that is safe."""
    return 2 * refresh_seconds


class ReadModelCollections:
    def __init__(self, database: AsyncDatabase, refresh_seconds: float):
        self._documents = database[ReadModelGeneration.Settings.name]
        # Re-read ahead of need: a projector's batch does not wait for this read.
        self._known = RefreshAhead(self._read_all, refresh_seconds, "read model generations")

    async def generations(self, projection: str) -> Generations:
        return (await self._known.get()).get(projection, Generations(0, (0,)))

    async def read_name(self, projection: str, base: str) -> str:
        return collection_name(base, (await self.generations(projection)).read)

    async def _read_all(self) -> dict[str, Generations]:
        return {
            document["_id"]: Generations(document["read"], tuple(document["write"]))
            async for document in self._documents.find({})
        }

    def forget(self) -> None:
        """Reads the documents again at the next call (after this process changed them)."""
        self._known.forget()

    async def set(self, projection: str, generations: Generations) -> None:
        await self._documents.update_one(
            {"_id": projection}, {"$set": {"read": generations.read, "write": list(generations.write)}}, upsert=True
        )
        self.forget()
        log.info("read model generations", projection=projection, read=generations.read, write=list(generations.write))

    async def retire(self, projection: str, generations: Sequence[int], at: datetime) -> None:
        """Hands old generations to be dropped once nobody can write them (`retired_generations`)."""
        if generations:
            await self._documents.update_one(
                {"_id": projection},
                {"$push": {"retired": {"$each": [{"generation": generation, "at": at} for generation in generations]}}},
            )


# Where an adapter finds its collection: the live read generation, or a fixed name (a
# rebuild's or a verify's collection, or one generation the projector writes).
CollectionName = Callable[[], Awaitable[str]]


def fixed(name: str) -> CollectionName:
    async def resolve() -> str:
        return name

    return resolve


def live_read(collections: ReadModelCollections, projection: str, base: str) -> CollectionName:
    async def resolve() -> str:
        return await collections.read_name(projection, base)

    return resolve


def collection_of(database: AsyncDatabase, name: str | CollectionName) -> Callable[[], Awaitable[AsyncCollection]]:
    """An adapter's way to its collection, given a fixed name or a resolver."""
    resolve = fixed(name) if isinstance(name, str) else name

    async def collection() -> AsyncCollection:
        return database[await resolve()]

    return collection
