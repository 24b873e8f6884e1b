import pytest

from application.commands.context import CommandContext
from application.commands.customer_changes import CustomerChanges
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.events import Watermark
from application.phone_regions import PhoneRegions
from application.projections.customer_details import PROJECTION_NAME, ProjectCustomerDetails
from application.projections.partition_batches import ProjectionPartition
from domain.customer.aggregate import ProfileInput
from tests.fakes import (
    FixedClock,
    InMemoryCheckpoints,
    InMemoryCustomerCache,
    InMemoryCustomerViews,
    InMemoryEventStore,
    InMemorySegments,
    NoOutcomes,
    RecordingAnnouncer,
    SequentialIds,
    StoreSnapshots,
)

pytestmark = pytest.mark.unit
CONTEXT = CommandContext(actor="user_1", correlation_id="corr_1", causation_id="http:1")


@pytest.fixture
def parts():
    clock = FixedClock()
    store = InMemoryEventStore(clock)
    views = InMemoryCustomerViews()
    checkpoints = InMemoryCheckpoints(partitions=2)
    register = RegisterCustomerHandler(
        CustomerChanges(store, StoreSnapshots(store), NoOutcomes()), SequentialIds(), clock, PhoneRegions("PT", {})
    )
    project = ProjectCustomerDetails(views, store, InMemoryCustomerCache(), InMemorySegments())
    return store, views, checkpoints, register, project


async def test_registering_appends_the_event_with_the_callers_metadata(parts):
    store, _, _, register, _ = parts
    result = await register.execute(
        RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT
    )
    assert result.position == 1
    [recorded] = store.events
    assert (recorded.stream_id, recorded.version) == (result.customer.id, 1)
    assert recorded.metadata.actor == "user_1"
    assert recorded.metadata.business_id == "biz_1"


async def test_projecting_builds_the_view(parts):
    store, views, _, register, project = parts
    result = await register.execute(
        RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT
    )
    outcome = await project.execute(store.events)
    assert outcome.applied == 1
    assert views.views[result.customer.id] == result.customer


async def test_a_business_is_reached_once_every_partition_has_handled_its_watermark(parts):
    store, views, checkpoints, register, project = parts
    await register.execute(RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT)
    announcer = RecordingAnnouncer()
    partition_0 = ProjectionPartition(PROJECTION_NAME, 0, project.execute, checkpoints, announcer)
    partition_1 = ProjectionPartition(PROJECTION_NAME, 1, project.execute, checkpoints, announcer)
    await partition_0([*store.events, Watermark(published={"biz_1": 1})])
    assert len(views.views) == 1
    assert await checkpoints.reached(PROJECTION_NAME, "biz_1") == 0
    await partition_1([Watermark(published={"biz_1": 1})])
    assert await checkpoints.reached(PROJECTION_NAME, "biz_1") == 1
    assert announcer.announcements == 2


async def test_a_duplicate_delivery_changes_nothing(parts):
    store, views, _, register, project = parts
    await register.execute(RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT)
    await project.execute(store.events)
    before = dict(views.views)
    outcome = await project.execute(store.events + store.events)
    assert (outcome.applied, outcome.duplicates) == (0, 2)
    assert views.views == before
    assert views.writes == 1


async def test_duplicates_within_one_batch_are_applied_once(parts):
    store, views, _, register, project = parts
    await register.execute(RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT)
    outcome = await project.execute(store.events * 3)
    assert (outcome.applied, outcome.duplicates) == (1, 2)
    assert next(iter(views.views.values())).version == 1


async def test_projecting_refreshes_the_cache():
    clock = FixedClock()
    store, views = InMemoryEventStore(clock), InMemoryCustomerViews()
    cache = InMemoryCustomerCache()
    register = RegisterCustomerHandler(
        CustomerChanges(store, StoreSnapshots(store), NoOutcomes()), SequentialIds(), clock, PhoneRegions("PT", {})
    )
    result = await register.execute(
        RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT
    )
    await ProjectCustomerDetails(views, store, cache, InMemorySegments()).execute(store.events)
    assert await cache.get("biz_1", result.customer.id) == result.customer
