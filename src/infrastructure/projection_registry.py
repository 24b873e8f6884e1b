"""Every projection, listed once: its name and code version, its read model's Beanie
documents (collections and indexes), and how to wire its handler into them.

The topology declares a partitioned stream per entry, the projector worker runs one,
and `crm projections` rebuilds and verifies them: adding a projection is adding an entry.
A handler is wired into a *naming* (which collection each of the projection's documents
goes to: a generation, or a verify's scratch collections); `apply_into` gives it without
side effects (no cache) for rebuilds and verifies, `live` gives what the projector runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from beanie import Document

from application.events import RecordedEvent
from application.insights import facts as insights
from application.projections import customer_details, customer_history
from application.projections.customer_details import ProjectCustomerDetails
from application.projections.customer_history import ProjectCustomerHistory
from application.projections.partition_batches import ApplyEvents
from application.projections.rebuild import BuildWriter, DirectBuildWriter, NoCacheDuringRebuild
from application.segments.ports import NoSegmentsKept
from infrastructure.mongo.customer_history import MongoCustomerHistory
from infrastructure.mongo.customer_views import BufferedCustomerViews, MongoCustomerViewStore
from infrastructure.mongo.documents import (
    CustomerHistoryEntry,
    CustomerNote,
    CustomerPurchase,
    CustomerSearchEntry,
    CustomerView,
    InsightsCounts,
    InsightsMember,
    InsightsPurchase,
    SegmentCount,
    SegmentDefinition,
)
from infrastructure.mongo.insights import MongoInsights
from infrastructure.mongo.read_model_generations import collection_name
from infrastructure.mongo.segments import MongoSegments
from infrastructure.projection_routes import PROJECTION_ROUTING_KEYS

if TYPE_CHECKING:  # the container builds what the registry lists (the dead letters' queues)
    from infrastructure.container import Container

# Which collection a document's base name maps to (a generation, a scratch collection).
Naming = Callable[[str], str]
# The projection's handler writing into a naming; `keeps_cache` for the generation readers
# read (the others have no cache to keep).
HandlerInto = Callable[["Container", Naming, bool], ApplyEvents]
# The rebuild's writer into a naming (`resumed`: the build already holds documents).
BuilderInto = Callable[["Container", Naming, bool], BuildWriter]


def generation(number: int) -> Naming:
    return lambda base: collection_name(base, number)


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    version: int
    documents: tuple[type[Document], ...]
    handler_into: HandlerInto
    builder_into: BuilderInto | None = None
    # What of a stored document `verify` compares (two documents equal here hold the same).
    comparable: Callable[[dict[str, Any]], dict[str, Any]] = lambda document: document
    # Collections of count shards (`<key>|<shard>`): any shard may hold a change, so `verify`
    # compares their sums per key, not the shards.
    sharded_counts: tuple[str, ...] = ()
    # Readers wait for it (`min_version`, `min_position`): its projector takes the database first.
    waited_on: bool = False

    @property
    def routing_keys(self) -> tuple[str, ...]:
        """The events it consumes from the `customers` exchange."""
        return PROJECTION_ROUTING_KEYS[self.name]

    @property
    def bases(self) -> list[str]:
        return [document.Settings.name for document in self.documents]  # type: ignore[attr-defined]

    def apply_into(self, container: Container, naming: Naming) -> ApplyEvents:
        """The handler for a rebuild or a verify: into those collections, no side effect."""
        return self.handler_into(container, naming, False)

    def build_writer(self, container: Container, naming: Naming, resumed: bool) -> BuildWriter:
        """How a rebuild writes the build: in bulk where the projection can fold in memory."""
        if self.builder_into is not None:
            return self.builder_into(container, naming, resumed)
        return DirectBuildWriter(self.apply_into(container, naming))

    def live(self, container: Container) -> ApplyEvents:
        """What the projector runs: every generation being written (see read_model_generations)."""
        return GenerationalApply(container, self.name, self.handler_into)


class GenerationalApply:
    """Applies each batch to every generation of the read model that projectors write: one
    normally, two while a rebuild switches readers over."""

    def __init__(self, container: Container, projection: str, handler_into: HandlerInto):
        self._container = container
        self._collections = container.read_model_collections()
        self._projection = projection
        self._handler_into = handler_into
        self._handlers: dict[tuple[int, bool], ApplyEvents] = {}

    async def __call__(self, events: Sequence[RecordedEvent]) -> None:
        generations = await self._collections.generations(self._projection)
        for number in generations.write:
            read = number == generations.read
            handler = self._handlers.get((number, read))
            if handler is None:
                handler = self._handler_into(self._container, generation(number), read)
                self._handlers[(number, read)] = handler
            await handler(events)


def _segments_into(container: Container, naming: Naming) -> MongoSegments:
    return MongoSegments(
        container.database(), naming(SegmentDefinition.Settings.name), naming(SegmentCount.Settings.name)
    )


def _customer_details_into(container: Container, naming: Naming, keeps_cache: bool) -> ApplyEvents:
    segments = _segments_into(container, naming)
    views = MongoCustomerViewStore(
        container.database(),
        naming(CustomerView.Settings.name),
        naming(CustomerSearchEntry.Settings.name),
        segments,
        naming(SegmentCount.Settings.name),
        naming(CustomerNote.Settings.name),
        naming(CustomerPurchase.Settings.name),
    )
    cache = container.customer_cache() if keeps_cache else NoCacheDuringRebuild()
    return ProjectCustomerDetails(views, container.event_store(), cache, segments).execute


class _FoldedCustomerDetails(BuildWriter):
    def __init__(self, container: Container, naming: Naming, resumed: bool):
        segments = _segments_into(container, naming)
        self._views = BufferedCustomerViews(
            container.database(),
            naming(CustomerView.Settings.name),
            naming(CustomerSearchEntry.Settings.name),
            segments,
            naming(SegmentCount.Settings.name),
            naming(CustomerNote.Settings.name),
            naming(CustomerPurchase.Settings.name),
            resumed,
            container.settings().rebuild_customers_in_memory,
        )
        self._project = ProjectCustomerDetails(self._views, container.event_store(), NoCacheDuringRebuild(), segments)

    async def apply(self, events: Sequence[RecordedEvent]) -> None:
        await self._project.execute(events)

    async def flush(self) -> None:
        await self._views.flush()


def _customer_history_into(container: Container, naming: Naming, keeps_cache: bool) -> ApplyEvents:
    return ProjectCustomerHistory(
        MongoCustomerHistory(container.database(), naming(CustomerHistoryEntry.Settings.name))
    ).execute


def _insights_into(container: Container, naming: Naming, keeps_cache: bool) -> ApplyEvents:
    members = MongoInsights(
        container.database(),
        naming(InsightsMember.Settings.name),
        naming(InsightsCounts.Settings.name),
        naming(InsightsPurchase.Settings.name),
    )
    return ProjectCustomerDetails(members, container.event_store(), NoCacheDuringRebuild(), NoSegmentsKept()).execute


def _without_zero_counts(document: dict[str, Any]) -> dict[str, Any]:
    def pruned(value: Any) -> Any:
        if isinstance(value, dict):
            kept = {key: pruned(inner) for key, inner in value.items()}
            return {key: inner for key, inner in kept.items() if inner not in (0, {})}
        return value

    return {**document, "facts": pruned(document["facts"])} if "facts" in document else document


def _without_view_version(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "view_version"}


PROJECTIONS: dict[str, ProjectionSpec] = {
    spec.name: spec
    for spec in (
        ProjectionSpec(
            customer_details.PROJECTION_NAME,
            customer_details.PROJECTION_VERSION,
            (CustomerView, CustomerSearchEntry, CustomerNote, CustomerPurchase, SegmentDefinition, SegmentCount),
            _customer_details_into,
            builder_into=_FoldedCustomerDetails,
            # A live search entry keeps the version of the view it was last rewritten from.
            comparable=_without_view_version,
            sharded_counts=(SegmentCount.Settings.name,),
            waited_on=True,
        ),
        ProjectionSpec(
            customer_history.PROJECTION_NAME,
            customer_history.PROJECTION_VERSION,
            (CustomerHistoryEntry,),
            _customer_history_into,
        ),
        ProjectionSpec(
            insights.PROJECTION_NAME,
            insights.PROJECTION_VERSION,
            (InsightsMember, InsightsCounts, InsightsPurchase),
            _insights_into,
            # A count that went up and down again is stored as 0; a replay never stored it.
            comparable=_without_zero_counts,
            sharded_counts=(InsightsCounts.Settings.name,),
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
