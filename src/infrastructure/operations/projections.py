"""The projections as ops see them: status, rebuild, verify (`crm projections ...`).

The projections are listed once, in `infrastructure.projection_registry`. A rebuild or a
verify wires the projection's own handler into a collection of its own *without side
effects* (no cache, no announcement, no checkpoint, no publisher anywhere in it).
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from application.events import RecordedEvent
from application.projections.rebuild import (
    ApplyBatch,
    BuildWriter,
    ReadModelBuild,
    RebuildProgress,
    RebuildProjection,
    RebuildReport,
    SilentProgress,
)
from infrastructure.container import Container
from infrastructure.messaging.failures import retrying_transient
from infrastructure.mongo.documents import CustomerView, ProjectionActivity
from infrastructure.mongo.read_model_builds import MongoReadModelBuild
from infrastructure.mongo.read_model_generations import settle_seconds
from infrastructure.mongo.retired_generations import RetiredGenerations
from infrastructure.operations.log_lag import projection_lag
from infrastructure.projection_registry import PROJECTIONS, ProjectionSpec, projection_spec

VERIFY_WAIT_SECONDS = 10.0
VERIFY_ROUNDS = 3
MAX_REPORTED_DIFFERENCES = 50


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    # Events of every business appended and not yet applied, and businesses that have some.
    behind: int
    businesses_behind: int
    lag_seconds: float
    events_per_second: float
    last_error: str | None
    last_error_at: datetime | None
    code_version: int
    built_by_version: int
    interrupted_rebuild: bool
    # Old generations a rebuild left, which the projectors drop once nobody can write them.
    retired_generations: tuple[int, ...] = ()

    @property
    def needs_rebuild(self) -> bool:
        return self.code_version != self.built_by_version


@dataclass(frozen=True)
class Difference:
    id: str
    kind: str  # "missing in live", "not in rebuild", "differs"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyReport:
    projection: str
    compared: int
    differences: tuple[Difference, ...]
    more_differences: int


def retired_generations(container: Container) -> RetiredGenerations:
    """The old generations rebuilds left, dropped once nobody can write them."""
    settings = container.settings()
    return RetiredGenerations(
        container.database(),
        {name: spec.bases for name, spec in PROJECTIONS.items()},
        container.clock(),
        # Twice the settling time after the last switch: every process has seen it, and a
        # projector batch that began before it is over.
        unused_after_seconds=2 * settle_seconds(settings.read_model_refresh_seconds),
        drop_batch=settings.read_model_drop_batch,
    )


class ProjectionOperations:
    def __init__(self, container: Container, batch_size: int = 2000):
        self._container = container
        self._database: AsyncDatabase = container.database()
        self._batch_size = batch_size

    def _build(self, spec: ProjectionSpec, purpose: str = "rebuild") -> MongoReadModelBuild:
        settings = self._container.settings()
        return MongoReadModelBuild(
            self._database,
            self._container.read_model_collections(),
            self._container.checkpoints(),
            self._container.clock(),
            spec.name,
            spec.version,
            spec.documents,
            settle_seconds=settle_seconds(settings.read_model_refresh_seconds),
            purpose=purpose,
            drop_batch=settings.read_model_drop_batch,
        )

    async def status(self) -> list[ProjectionStatus]:
        now = self._container.clock().now()
        retired = await retired_generations(self._container).pending()
        statuses = []
        for spec in PROJECTIONS.values():
            lag = await projection_lag(self._database, self._container.checkpoints(), spec.name)
            state = await self._container.checkpoints().read(spec.name) or {}
            activity = [
                document
                async for document in self._database[ProjectionActivity.Settings.name].find({"projection": spec.name})
            ]
            errors = sorted(
                (document for document in activity if document.get("last_error_at")),
                key=lambda document: document["last_error_at"],
            )
            statuses.append(
                ProjectionStatus(
                    name=spec.name,
                    behind=lag.events,
                    businesses_behind=lag.businesses_behind,
                    lag_seconds=lag.seconds(now),
                    events_per_second=sum(document.get("events_per_second", 0.0) for document in activity),
                    last_error=errors[-1]["last_error"] if errors else None,
                    last_error_at=errors[-1]["last_error_at"] if errors else None,
                    code_version=spec.version,
                    # Read models built before versions were recorded were built by version 1.
                    built_by_version=state.get("projection_version") or 1,
                    interrupted_rebuild=await self._build(spec).pending() is not None,
                    retired_generations=tuple(retired.get(spec.name, ())),
                )
            )
        return statuses

    async def rebuild(self, name: str, resume: bool = False, progress: RebuildProgress | None = None) -> RebuildReport:
        spec = projection_spec(name)
        container = self._container
        build = self._build(spec)

        def handlers_into(_: ReadModelBuild) -> tuple[BuildWriter, ApplyBatch]:
            apply = spec.apply_into(container, build.naming)

            async def apply_patiently(batch: Sequence[RecordedEvent]) -> None:
                # Beside the live projector on a busy server, as the projector itself is.
                await retrying_transient(lambda: apply(batch))

            return spec.build_writer(container, build.naming, resumed=build.resumed), apply_patiently

        async def forget_cache() -> None:
            if CustomerView in spec.documents:
                await container.customer_cache().forget_all()

        rebuild = RebuildProjection(
            container.event_store(),
            build,
            handlers_into,
            forget_cache,
            self._batch_size,
            progress or SilentProgress(),
        )
        return await rebuild.execute(resume)

    async def abandon(self, name: str) -> bool:
        """Drops an interrupted rebuild; False if there was none."""
        build = self._build(projection_spec(name))
        if await build.pending() is None:
            return False
        await build.abandon()
        return True

    async def verify(self, name: str, progress: RebuildProgress | None = None) -> VerifyReport:
        """Rebuilds into a scratch collection and compares it with the live read model.

        Both must stand at the same positions to compare: the scratch build catches up to
        every business's head, the live projection's checkpoints must reach them too.
        Commands that keep arriving move both on, so a difference is only reported if it
        survives a few rounds of catching up."""
        spec = projection_spec(name)
        build = self._build(spec, purpose="verify")
        await build.abandon()
        progress = progress or SilentProgress()
        try:
            await build.begin(resume=False)
            writer = spec.build_writer(self._container, build.naming, resumed=False)
            replay = RebuildProjection(
                self._container.event_store(),
                build,
                lambda _: (writer, writer.apply),
                _nothing,
                self._batch_size,
                progress,
            )
            reached: dict[str, int] = {}
            report = None
            for _ in range(VERIFY_ROUNDS):
                reached, _, _ = await replay.replay(reached, writer)
                await self._wait_for_live(spec.name, reached)
                report = await self._compare(spec, build.naming)
                if not report.differences:
                    break
            assert report is not None
            return report
        finally:
            await build.abandon()

    async def _wait_for_live(self, name: str, reached: dict[str, int]) -> None:
        deadline = asyncio.get_running_loop().time() + VERIFY_WAIT_SECONDS
        checkpoints = self._container.checkpoints()
        for business_id, position in reached.items():
            while asyncio.get_running_loop().time() < deadline:
                if await checkpoints.reached(name, business_id) >= position:
                    break
                await asyncio.sleep(0.1)

    async def _compare(self, spec: ProjectionSpec, scratch: Callable[[str], str]) -> VerifyReport:
        differences: list[Difference] = []
        compared = 0
        collections = self._container.read_model_collections()
        for base in spec.bases:
            live = await collections.read_name(spec.name, base)
            expected = _sorted_documents(self._database[scratch(base)])
            actual = _sorted_documents(self._database[live])
            if base in spec.sharded_counts:
                expected, actual = _summed_shards(expected), _summed_shards(actual)
            left, right = await anext(expected, None), await anext(actual, None)
            while left is not None or right is not None:
                compared += 1
                if right is None or (left is not None and left["_id"] < right["_id"]):
                    differences.append(Difference(f"{base}/{left['_id']}", "missing in live"))  # type: ignore[index]
                    left = await anext(expected, None)
                elif left is None or right["_id"] < left["_id"]:
                    differences.append(Difference(f"{base}/{right['_id']}", "not in rebuild"))
                    right = await anext(actual, None)
                else:
                    fields = _differing_fields(spec.comparable(left), spec.comparable(right))
                    if fields:
                        differences.append(Difference(f"{base}/{left['_id']}", "differs", fields))
                    left, right = await anext(expected, None), await anext(actual, None)
        return VerifyReport(
            spec.name,
            compared,
            tuple(differences[:MAX_REPORTED_DIFFERENCES]),
            max(0, len(differences) - MAX_REPORTED_DIFFERENCES),
        )


async def _sorted_documents(collection):
    async for document in collection.find({}, sort=[("_id", 1)], batch_size=2000):
        yield document


async def _summed_shards(documents):
    """Count shards (`<key>|<shard>`, sorted by id, so one key's shards come together) as
    one document per key with their numbers summed; a key whose sums are all 0 is left out,
    as a replay that never counted it has no document."""
    current: dict[str, Any] | None = None
    async for document in documents:
        key = document["_id"].rsplit("|", 1)[0]
        if current is not None and current["_id"] == key:
            current = _summed(current, document)
            continue
        if current is not None and _counts_anything(current):
            yield current
        current = {**document, "_id": key}
    if current is not None and _counts_anything(current):
        yield current


def _summed(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    summed = dict(total)
    for field, value in more.items():
        if field == "_id":
            continue
        if isinstance(value, dict):
            summed[field] = _summed(summed.get(field) or {}, value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            summed[field] = summed.get(field, 0) + value
        else:
            summed.setdefault(field, value)
    return summed


def _counts_anything(document: dict[str, Any]) -> bool:
    return any(
        _counts_anything(value) if isinstance(value, dict) else isinstance(value, int | float) and value != 0
        for field, value in document.items()
        if field != "_id" and not isinstance(value, bool)
    )


def _differing_fields(expected: dict[str, Any], actual: dict[str, Any], prefix: str = "") -> tuple[str, ...]:
    fields: list[str] = []
    for key in sorted(set(expected) | set(actual)):
        left, right = expected.get(key), actual.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            fields.extend(_differing_fields(left, right, f"{prefix}{key}."))
        elif left != right:
            fields.append(f"{prefix}{key}")
    return tuple(fields)


async def _nothing() -> None:
    return None
