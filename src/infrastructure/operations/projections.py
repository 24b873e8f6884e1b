"""The projections as ops see them: status, rebuild, verify (`crm projections ...`).

Each projection is listed once, in `PROJECTIONS`, with its code version, its Beanie
document (collection name and indexes) and how to wire its own handler into another
collection *without side effects*: the rebuild wiring passes the no-op ports that
`application.projections.rebuild` names, and no publisher exists anywhere in it.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import Document
from pymongo.asynchronous.database import AsyncDatabase

from application.projections import customer_details, customer_history
from application.projections.customer_details import ProjectCustomerDetails
from application.projections.customer_history import ProjectCustomerHistory
from application.projections.rebuild import (
    ApplyBatch,
    NoAnnouncementDuringRebuild,
    NoCacheDuringRebuild,
    NoCheckpointDuringRebuild,
    RebuildProgress,
    RebuildProjection,
    RebuildReport,
    SilentProgress,
)
from infrastructure.container import Container
from infrastructure.mongo.customer_history import MongoCustomerHistory
from infrastructure.mongo.customer_views import MongoCustomerViewStore
from infrastructure.mongo.documents import CustomerHistoryEntry, CustomerView, ProjectionActivity
from infrastructure.mongo.read_model_builds import MongoReadModelBuild
from infrastructure.operations.log_lag import head_position, lag_of

VERIFY_WAIT_SECONDS = 10.0
VERIFY_ROUNDS = 3
MAX_REPORTED_DIFFERENCES = 50


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    version: int
    document: type[Document]
    # The projection's own handler, writing into `collection`, with no side effect.
    apply_into: Callable[[Container, str], ApplyBatch]


def _customer_details_into(container: Container, collection: str) -> ApplyBatch:
    return ProjectCustomerDetails(
        MongoCustomerViewStore(container.database(), collection),
        container.event_store(),
        NoCheckpointDuringRebuild(),
        NoCacheDuringRebuild(),
        NoAnnouncementDuringRebuild(),
    ).execute


def _customer_history_into(container: Container, collection: str) -> ApplyBatch:
    return ProjectCustomerHistory(
        MongoCustomerHistory(container.database(), collection), NoCheckpointDuringRebuild()
    ).execute


PROJECTIONS: dict[str, ProjectionSpec] = {
    spec.name: spec
    for spec in (
        ProjectionSpec(
            customer_details.PROJECTION_NAME, customer_details.PROJECTION_VERSION, CustomerView, _customer_details_into
        ),
        ProjectionSpec(
            customer_history.PROJECTION_NAME,
            customer_history.PROJECTION_VERSION,
            CustomerHistoryEntry,
            _customer_history_into,
        ),
    )
}


class UnknownProjection(ValueError):
    def __init__(self, name: str):
        super().__init__(f"unknown projection {name!r}; choose one of {', '.join(PROJECTIONS)}")


def projection_spec(name: str) -> ProjectionSpec:
    try:
        return PROJECTIONS[name]
    except KeyError:
        raise UnknownProjection(name) from None


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    behind: int
    lag_seconds: float
    events_per_second: float
    last_error: str | None
    last_error_at: datetime | None
    code_version: int
    built_by_version: int
    interrupted_rebuild_at: int | None

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
    position: int
    compared: int
    differences: tuple[Difference, ...]
    more_differences: int


class ProjectionOperations:
    def __init__(self, container: Container, batch_size: int = 2000):
        self._container = container
        self._database: AsyncDatabase = container.database()
        self._batch_size = batch_size

    def _build(self, spec: ProjectionSpec, purpose: str = "rebuild") -> MongoReadModelBuild:
        return MongoReadModelBuild(
            self._database, self._container.checkpoints(), self._container.clock(), spec.name, spec.version,
            spec.document, purpose, self._container.settings().mongodb_url,
        )

    async def status(self) -> list[ProjectionStatus]:
        head = await head_position(self._database)
        now = self._container.clock().now()
        statuses = []
        for spec in PROJECTIONS.values():
            lag = await lag_of(self._database, spec.name, head)
            checkpoint = await self._container.checkpoints().read(spec.name) or {}
            activity = await self._database[ProjectionActivity.Settings.name].find_one({"_id": spec.name}) or {}
            interrupted = await self._build(spec).pending()
            statuses.append(
                ProjectionStatus(
                    name=spec.name,
                    position=lag.position,
                    head=head,
                    behind=lag.events,
                    lag_seconds=lag.seconds(now),
                    events_per_second=activity.get("events_per_second", 0.0),
                    last_error=activity.get("last_error"),
                    last_error_at=activity.get("last_error_at"),
                    code_version=spec.version,
                    # Read models built before versions were recorded were built by version 1.
                    built_by_version=checkpoint.get("projection_version") or 1,
                    interrupted_rebuild_at=interrupted["position"] if interrupted else None,
                )
            )
        return statuses

    async def rebuild(self, name: str, resume: bool = False, progress: RebuildProgress | None = None) -> RebuildReport:
        spec = projection_spec(name)
        build = self._build(spec)
        rebuild = RebuildProjection(
            self._container.event_store(),
            build,
            apply_to_build=spec.apply_into(self._container, build.collection),
            apply_to_live_after_swap=spec.apply_into(self._container, build.live_collection),
            forget_cache=self._forget_cache if spec.document is CustomerView else _nothing,
            batch_size=self._batch_size,
            progress=progress or SilentProgress(),
        )
        return await rebuild.execute(resume)

    async def abandon(self, name: str) -> bool:
        """Drops an interrupted rebuild; False if there was none."""
        build = self._build(projection_spec(name))
        if await build.pending() is None:
            return False
        await build.abandon()
        return True

    async def _forget_cache(self) -> None:
        await self._container.customer_cache().forget_all()

    async def verify(self, name: str, progress: RebuildProgress | None = None) -> VerifyReport:
        """Rebuilds into a scratch collection and compares it with the live read model.

        Both must stand at the same position to compare: the scratch build catches up to
        the head, the live projector's checkpoint must reach it too. Commands that keep
        arriving move both on, so a difference is only reported if it survives a few
        rounds of catching up."""
        spec = projection_spec(name)
        build = self._build(spec, purpose="verify")
        await build.abandon()
        progress = progress or SilentProgress()
        rebuild = RebuildProjection(
            self._container.event_store(), build, spec.apply_into(self._container, build.collection),
            apply_to_live_after_swap=_never, forget_cache=_nothing, batch_size=self._batch_size, progress=progress,
        )
        try:
            position = await build.begin(resume=False)
            report = None
            for _ in range(VERIFY_ROUNDS):
                position, _ = await rebuild.catch_up(position)
                await self._wait_for_live(spec.name, position)
                report = await self._compare(spec, build.collection, build.live_collection, position)
                if not report.differences:
                    break
            assert report is not None
            return report
        finally:
            await build.abandon()

    async def _wait_for_live(self, name: str, position: int) -> None:
        deadline = asyncio.get_running_loop().time() + VERIFY_WAIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if await self._container.checkpoints().load(name) >= position:
                return
            await asyncio.sleep(0.1)

    async def _compare(self, spec: ProjectionSpec, scratch: str, live: str, position: int) -> VerifyReport:
        expected = _sorted_documents(self._database[scratch])
        actual = _sorted_documents(self._database[live])
        differences: list[Difference] = []
        compared = 0
        left, right = await anext(expected, None), await anext(actual, None)
        while left is not None or right is not None:
            compared += 1
            if right is None or (left is not None and left["_id"] < right["_id"]):
                differences.append(Difference(left["_id"], "missing in live"))  # type: ignore[index]
                left = await anext(expected, None)
            elif left is None or right["_id"] < left["_id"]:
                differences.append(Difference(right["_id"], "not in rebuild"))
                right = await anext(actual, None)
            else:
                fields = _differing_fields(left, right)
                if fields:
                    differences.append(Difference(left["_id"], "differs", fields))
                left, right = await anext(expected, None), await anext(actual, None)
        return VerifyReport(
            spec.name, position, compared, tuple(differences[:MAX_REPORTED_DIFFERENCES]),
            max(0, len(differences) - MAX_REPORTED_DIFFERENCES),
        )


async def _sorted_documents(collection):
    async for document in collection.find({}, sort=[("_id", 1)], batch_size=2000):
        yield document


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


async def _never(batch) -> None:
    raise AssertionError("a verify never swaps, so it never repairs the live read model")
