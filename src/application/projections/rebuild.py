"""Rebuilding a read model from the event store, beside the live one, with no downtime.

The replay reads the event store directly (never RabbitMQ), business by business, each
business's log in large batches, and applies them through the projection's own handler,
wired to a *build* (a new generation of the read model) and to a cache that does
nothing: a rebuild refreshes no cache, announces nothing, moves no checkpoint and has no
publisher at all, so it repeats no outbound event and no integration effect. The build
folds what it can in memory and writes in bulk (`BuildWriter.flush`).

Then, with no reader ever waiting:
1. projectors write both generations (`start_dual_writes`), and once every process has
   seen that, the events appended since the replay are applied to the build too (as the
   projector would: duplicates are skipped by version);
2. readers move to the build (`switch_reads`), which now holds everything the live one did;
3. projectors stop writing the old generation (`finish`), which is retired: the projectors
   drop it in the background once no batch can write it any more.
A business's progress is recorded after each flush, so an interrupted rebuild resumes where
it stopped, or is abandoned, without the live read model ever being touched.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from application.errors import VersionConflict
from application.events import RecordedEvent
from application.ports import CustomerCache, EventStore
from domain.customer.state import CustomerState

ApplyBatch = Callable[[Sequence[RecordedEvent]], Awaitable[object]]

HEADS_PAGE = 500
MAX_CONFLICT_RETRIES = 20
# A business's replay is flushed and its progress recorded every this many batches.
BATCHES_PER_FLUSH = 50


class NoCacheDuringRebuild(CustomerCache):
    """A rebuild refreshes no cache entry: the cache is forgotten once, after the switch."""

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        return None

    async def put_many(self, states: Sequence[CustomerState]) -> None:
        return None


class RebuildInProgress(Exception):
    """An interrupted rebuild exists: resume it or abandon it first."""

    def __init__(self, projection: str):
        super().__init__(f"an interrupted rebuild of {projection} exists")
        self.projection = projection


class NoRebuildToResume(Exception):
    def __init__(self, projection: str):
        super().__init__(f"no interrupted rebuild of {projection} to resume")
        self.projection = projection


class BuildWriter(ABC):
    """The projection's handler into the build, which may hold what it applied in memory."""

    @abstractmethod
    async def apply(self, events: Sequence[RecordedEvent]) -> None: ...

    @abstractmethod
    async def flush(self) -> None:
        """Writes what is held; after it, everything applied is in the build."""


class DirectBuildWriter(BuildWriter):
    """A handler that writes each batch as it goes (nothing to flush)."""

    def __init__(self, apply: ApplyBatch):
        self._apply = apply

    async def apply(self, events: Sequence[RecordedEvent]) -> None:
        await self._apply(events)

    async def flush(self) -> None:
        return None


class ReadModelBuild(ABC):
    """A read model being built beside the live one: the next generation of it."""

    projection: str
    # How long it takes every process to see a generation switch.
    settle_seconds: float
    # Whether `begin` found the build already holding documents (a resumed rebuild).
    resumed: bool

    @abstractmethod
    async def begin(self, resume: bool) -> dict[str, int]:
        """Starts a fresh build (or resumes one); returns how far each business got.

        Raises `RebuildInProgress` for a fresh start over an interrupted build, and
        `NoRebuildToResume` when asked to resume none."""

    @abstractmethod
    async def record_progress(self, business_id: str, position: int) -> None: ...

    @abstractmethod
    async def start_dual_writes(self) -> None:
        """Projectors write the build as well as the live generation."""

    @abstractmethod
    async def switch_reads(self) -> None:
        """Readers read the build."""

    @abstractmethod
    async def finish(self) -> None:
        """Projectors write only the build, which is now the read model, and the code's
        version is recorded: the rebuild is done (nothing left to resume or abandon)."""

    @abstractmethod
    async def retire_previous(self) -> None:
        """Hands the old generation to be dropped in the background, once no process can
        write it any more (a projector batch that began before `finish` may still)."""

    @abstractmethod
    async def abandon(self) -> None:
        """Drops the build and its progress; the live read model is left as it is."""


class RebuildProgress(ABC):
    """Where a long replay reports how far it got (a progress bar, a log, nothing)."""

    @abstractmethod
    def phase(self, name: str, done: int, total: int) -> None: ...

    @abstractmethod
    def advanced(self, done: int, total: int) -> None: ...


class SilentProgress(RebuildProgress):
    def phase(self, name: str, done: int, total: int) -> None:
        return None

    def advanced(self, done: int, total: int) -> None:
        return None


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    resumed: bool
    businesses: int
    events_replayed: int
    caught_up_after_dual_writes: int


class Replay:
    """Applies businesses' logs to a writer, in batches, reporting progress."""

    def __init__(self, event_store: EventStore, batch_size: int, progress: RebuildProgress):
        self._event_store = event_store
        self.batch_size = batch_size
        self._progress = progress
        self.done = 0
        self.total = 0

    def phase(self, name: str, total: int) -> None:
        self.done, self.total = 0, total
        self._progress.phase(name, 0, total)

    async def heads(self) -> AsyncIterator[tuple[str, int]]:
        after: str | None = None
        while page := await self._event_store.heads(after, HEADS_PAGE):
            for business_id, head in page:
                yield business_id, head
            after = page[-1][0]

    async def business(self, business_id: str, after: int, until: int, apply: ApplyBatch) -> int:
        """Applies the business's events in (after, until]; returns how many it read.

        The next batch is read while this one is applied: the database reads as the fold runs."""
        windows = [(start, min(until, start + self.batch_size)) for start in range(after, until, self.batch_size)]
        count = 0
        reading = await self._read(business_id, windows[0]) if windows else None
        try:
            for index in range(len(windows)):
                assert reading is not None
                batch = await reading
                ahead = windows[index + 1] if batch and index + 1 < len(windows) else None
                reading = await self._read(business_id, ahead) if ahead else None
                if not batch:
                    break
                # Projections follow what the relay publishes: the order and payment links are
                # stored but never published, so a rebuild must not feed them either.
                published = [recorded for recorded in batch if recorded.event.published]
                if published:
                    await apply(published)
                count += len(batch)
                self.done += len(batch)
                self._progress.advanced(self.done, max(self.done, self.total))
        finally:
            if reading is not None:  # stopped early: the read ahead is not needed
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
        return count

    async def _read(self, business_id: str, window: tuple[int, int]) -> asyncio.Task[list[RecordedEvent]]:
        reading = asyncio.ensure_future(self._event_store.read_log(business_id, *window))
        # One turn of the event loop sends its query; the fold that follows never yields.
        await asyncio.sleep(0)
        return reading


# The projection's handlers into the build, once it has begun: its bulk writer, and its
# handler as the live projector runs it (for the catch-up beside the projectors).
HandlersInto = Callable[[ReadModelBuild], tuple[BuildWriter, ApplyBatch]]


class RebuildProjection:
    def __init__(
        self,
        event_store: EventStore,
        build: ReadModelBuild,
        handlers_into: HandlersInto,
        forget_cache: Callable[[], Awaitable[None]],
        batch_size: int,
        progress: RebuildProgress,
    ):
        self._event_store = event_store
        self._build = build
        self._handlers_into = handlers_into
        self._forget_cache = forget_cache
        self._replay = Replay(event_store, batch_size, progress)
        self._progress = progress

    async def execute(self, resume: bool = False) -> RebuildReport:
        reached = await self._build.begin(resume)
        writer, self._apply_as_projector = self._handlers_into(self._build)
        reached, replayed, businesses = await self.replay(reached, writer)
        await self._build.start_dual_writes()
        await asyncio.sleep(self._build.settle_seconds)
        heads = [(business_id, head) async for business_id, head in self._replay.heads()]
        self._replay.phase("catch-up", sum(max(0, head - reached.get(business_id, 0)) for business_id, head in heads))
        caught_up = 0
        for business_id, head in heads:
            caught_up += await self._replay.business(
                business_id, reached.get(business_id, 0), head, self._apply_beside_the_projector
            )
        await self._build.switch_reads()
        await asyncio.sleep(self._build.settle_seconds)
        await self._build.finish()
        # Dropped later: a projector's batch that began before it saw `finish` may still
        # write the old generation, and emptying it takes minutes on SecantusDB at 100,000
        # customers. The rebuild is done when readers and projectors have moved.
        await self._build.retire_previous()
        await self._forget_cache()
        return RebuildReport(self._build.projection, resume, businesses, replayed, caught_up)

    async def replay(self, reached: dict[str, int], writer: BuildWriter) -> tuple[dict[str, int], int, int]:
        """Replays every business up to its head into the build (resuming from `reached`);
        returns how far each got, the events replayed and the number of businesses."""
        heads = [(business_id, head) async for business_id, head in self._replay.heads()]
        self._replay.phase("replay", sum(max(0, head - reached.get(business_id, 0)) for business_id, head in heads))
        replayed = 0
        chunk = self._replay.batch_size * BATCHES_PER_FLUSH
        for business_id, head in heads:
            start = reached.get(business_id, 0)
            while start < head:
                end = min(head, start + chunk)
                replayed += await self._replay.business(business_id, start, end, writer.apply)
                await writer.flush()
                await self._build.record_progress(business_id, end)
                reached[business_id] = start = end
        return reached, replayed, len(heads)

    async def _apply_beside_the_projector(self, batch: Sequence[RecordedEvent]) -> None:
        # The live projector writes the same documents of the build meanwhile: a version
        # guard that fails means it got there first; reading again makes its events duplicates.
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                await self._apply_as_projector(batch)
                return
            except VersionConflict:
                if attempt == MAX_CONFLICT_RETRIES - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))
