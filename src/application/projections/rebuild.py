"""Rebuilding a read model from the event store, beside the live one, with no downtime.

The replay reads the event store directly (never RabbitMQ) in large batches and applies
them through the projection's own handler, wired to a *build* collection and to ports
that do nothing (`NO_SIDE_EFFECTS_*` below): no cache refresh, no announcement, no
checkpoint of the live projector, and no publisher at all. A rebuild therefore repeats
no outbound event and no integration effect.

Steps: bulk replay up to the head seen at the start; the build's indexes; catch-up with
what was appended meanwhile; the atomic swap onto the live name; a repair replay of the
events the live projector wrote into the old collection between the last catch-up and
the swap (idempotent by version, so the overlap is harmless); the cache forgotten. The
build's position is saved after every batch, so an interrupted rebuild resumes where it
stopped, or is abandoned, without the live read model ever being touched.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from application.errors import VersionConflict
from application.events import RecordedEvent
from application.ports import Checkpoints, CustomerCache, EventStore, ReadModelAnnouncer
from domain.customer.aggregate import CustomerState

ApplyBatch = Callable[[Sequence[RecordedEvent]], Awaitable[object]]

# Below this many events behind the head, the catch-up stops looping and swaps.
CATCH_UP_SLACK = 100
MAX_CATCH_UP_ROUNDS = 20
MAX_CONFLICT_RETRIES = 20


class NoCacheDuringRebuild(CustomerCache):
    """A rebuild refreshes no cache entry: the cache is forgotten once, after the swap."""

    async def get(self, business_id: str, customer_id: str) -> CustomerState | None:
        return None

    async def put_many(self, states: Sequence[CustomerState]) -> None:
        return None


class NoAnnouncementDuringRebuild(ReadModelAnnouncer):
    """A rebuild tells no reader anything: the build collection is not what they read."""

    async def announce(self, position: int) -> None:
        return None


class NoCheckpointDuringRebuild(Checkpoints):
    """The live projector's checkpoint is not the build's: the rebuild keeps its own."""

    async def save(self, name: str, position: int) -> None:
        return None

    async def load(self, name: str) -> int:
        return 0


class RebuildInProgress(Exception):
    """An interrupted rebuild exists: resume it or abandon it first."""

    def __init__(self, projection: str, position: int):
        super().__init__(f"an interrupted rebuild of {projection} stopped at position {position}")
        self.projection = projection
        self.position = position


class NoRebuildToResume(Exception):
    def __init__(self, projection: str):
        super().__init__(f"no interrupted rebuild of {projection} to resume")
        self.projection = projection


class ReadModelBuild(ABC):
    """A read model being built beside the live one (a collection of its own)."""

    projection: str

    @abstractmethod
    async def begin(self, resume: bool) -> int:
        """Starts a fresh build (or resumes one, when `resume`); returns the position it is at.

        Raises `RebuildInProgress` for a fresh start over an interrupted build, and
        `NoRebuildToResume` when asked to resume none."""

    @abstractmethod
    async def record_progress(self, position: int) -> None: ...

    @abstractmethod
    async def prepare_for_swap(self) -> None:
        """Creates the live collection's indexes on the build."""

    @abstractmethod
    async def swap(self, position: int) -> None:
        """Atomically replaces the live read model by the build, and drops the old one.
        Moves the live checkpoint to at least `position` and records the code's version."""

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
    resumed_from: int
    position: int
    events_replayed: int
    repaired_after_swap: int


class Replay:
    """Applies the event store's events after a position, in batches, up to a bound."""

    def __init__(self, event_store: EventStore, batch_size: int, progress: RebuildProgress):
        self._event_store = event_store
        self._batch_size = batch_size
        self._progress = progress

    async def run(
        self,
        after: int,
        until: int,
        apply: ApplyBatch,
        on_batch: Callable[[int], Awaitable[None]] | None = None,
    ) -> tuple[int, int]:
        """Returns (the last position applied, the number of events applied)."""
        position, count = after, 0
        while position < until:
            batch = await self._event_store.read_all(position, min(self._batch_size, until - position))
            batch = [recorded for recorded in batch if recorded.position <= until]
            if not batch:
                break
            # Projections follow what the relay publishes: the order and payment links are
            # stored but never published, so a rebuild must not feed them either.
            published = [recorded for recorded in batch if recorded.event.published]
            if published:
                await apply(published)
            position = batch[-1].position
            count += len(batch)
            if on_batch is not None:
                await on_batch(position)
            self._progress.advanced(position, until)
        return position, count


class RebuildProjection:
    def __init__(
        self,
        event_store: EventStore,
        build: ReadModelBuild,
        apply_to_build: ApplyBatch,
        apply_to_live_after_swap: ApplyBatch,
        forget_cache: Callable[[], Awaitable[None]],
        batch_size: int,
        progress: RebuildProgress,
    ):
        self._event_store = event_store
        self._build = build
        self._apply_to_build = apply_to_build
        self._apply_to_live = apply_to_live_after_swap
        self._forget_cache = forget_cache
        self._replay = Replay(event_store, batch_size, progress)
        self._progress = progress

    async def execute(self, resume: bool = False) -> RebuildReport:
        started_at = await self._build.begin(resume)
        head = await self._event_store.head_position()
        self._progress.phase("replay", started_at, head)
        position, replayed = await self._replay.run(
            started_at, head, self._apply_to_build, self._build.record_progress
        )
        await self._build.prepare_for_swap()
        position, caught_up = await self.catch_up(position)
        replayed += caught_up
        await self._build.swap(position)
        # The live projector may have written events after `position` into the collection
        # the swap just dropped: apply them again to the new one (duplicates are skipped).
        head = await self._event_store.head_position()
        self._progress.phase("repair", position, head)
        _, repaired = await self._replay.run(position, head, self._apply_to_live_beside_the_projector)
        await self._forget_cache()
        return RebuildReport(self._build.projection, started_at, position, replayed, repaired)

    async def _apply_to_live_beside_the_projector(self, batch: Sequence[RecordedEvent]) -> None:
        # The live projector writes the same views meanwhile: a version guard that fails
        # means it got there first; reading again turns its events into duplicates.
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                await self._apply_to_live(batch)
                return
            except VersionConflict:
                if attempt == MAX_CONFLICT_RETRIES - 1:
                    raise
                await asyncio.sleep(0.02 * (attempt + 1))

    async def catch_up(self, position: int) -> tuple[int, int]:
        """Replays into the build until it is (nearly) at the head; returns (position, count)."""
        total = 0
        for _ in range(MAX_CATCH_UP_ROUNDS):
            head = await self._event_store.head_position()
            self._progress.phase("catch-up", position, head)
            position, count = await self._replay.run(position, head, self._apply_to_build, self._build.record_progress)
            total += count
            if count <= CATCH_UP_SLACK:
                break
        return position, total
