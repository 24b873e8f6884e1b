import pytest

from application.commands.context import CommandContext
from application.commands.customer_changes import CustomerChanges
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.outbox_relay import OutboxRelay
from application.partitions import log_partition_of, owned_by, owner_of
from application.phone_regions import PhoneRegions
from application.ports import Lease, LeaseLost
from domain.customer.aggregate import ProfileInput
from tests.fakes import (
    FixedClock,
    InMemoryEventStore,
    InMemoryRelayProgress,
    NoOutcomes,
    RecordingPublisher,
    SequentialIds,
    StoreSnapshots,
)

pytestmark = pytest.mark.unit
CONTEXT = CommandContext(actor="user_1", correlation_id="corr_1", causation_id="http:1")
LEASE = Lease("relay", 0, "relay-a", epoch=1)


async def _registered(store: InMemoryEventStore, business_id: str, count: int) -> None:
    clock = FixedClock()
    register = RegisterCustomerHandler(
        CustomerChanges(store, StoreSnapshots(store), NoOutcomes()), SequentialIds(), clock, PhoneRegions("PT", {})
    )
    for index in range(count):
        await register.execute(
            RegisterCustomer(business_id=business_id, profile=ProfileInput(first_name=f"N{index}")), CONTEXT
        )


async def test_the_relay_publishes_each_business_log_in_order_in_batches_then_a_watermark():
    store = InMemoryEventStore()
    await _registered(store, "biz_1", 5)
    publisher, progress = RecordingPublisher(), InMemoryRelayProgress(store)
    relay = OutboxRelay(store, progress, publisher, batch_size=2)
    sent = [await relay.publish_pending(LEASE, {"biz_1"}) for _ in range(4)]
    assert sent == [2, 2, 1, 0]
    assert [event.position for event in publisher.published] == [1, 2, 3, 4, 5]
    assert publisher.watermarks == [{"biz_1": 2}, {"biz_1": 4}, {"biz_1": 5}]
    assert await progress.published({"biz_1"}) == {"biz_1": 5}


async def test_businesses_have_logs_of_their_own():
    store = InMemoryEventStore()
    await _registered(store, "biz_a", 2)
    await _registered(store, "biz_b", 3)
    assert await store.heads_of({"biz_a", "biz_b"}) == {"biz_a": 2, "biz_b": 3}
    publisher = RecordingPublisher()
    await OutboxRelay(store, InMemoryRelayProgress(store), publisher, batch_size=100).publish_pending(
        LEASE, {"biz_a", "biz_b"}
    )
    assert publisher.watermarks == [{"biz_a": 2, "biz_b": 3}]


async def test_a_failed_publish_leaves_the_progress_so_the_batch_is_sent_again():
    store = InMemoryEventStore()
    await _registered(store, "biz_1", 2)
    publisher, progress = RecordingPublisher(), InMemoryRelayProgress(store)
    relay = OutboxRelay(store, progress, publisher, batch_size=10)
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await relay.publish_pending(LEASE, {"biz_1"})
    assert await progress.published({"biz_1"}) == {}
    assert await relay.publish_pending(LEASE, {"biz_1"}) == 2
    assert [event.position for event in publisher.published] == [1, 2]


async def test_a_relay_whose_lease_was_superseded_cannot_record_progress():
    store = InMemoryEventStore()
    await _registered(store, "biz_1", 2)
    progress = InMemoryRelayProgress(store)
    newer = Lease("relay", 0, "relay-b", epoch=2)
    await OutboxRelay(store, progress, RecordingPublisher(), batch_size=1).publish_pending(newer, {"biz_1"})
    with pytest.raises(LeaseLost):
        await OutboxRelay(store, progress, RecordingPublisher(), batch_size=1).publish_pending(LEASE, {"biz_1"})


class CountingProgress(InMemoryRelayProgress):
    def __init__(self, store: InMemoryEventStore):
        super().__init__(store)
        self.reads = 0

    async def published(self, business_ids):
        self.reads += 1
        return await super().published(business_ids)


async def test_the_relay_reads_the_stored_progress_once_per_lease_epoch():
    store = InMemoryEventStore()
    await _registered(store, "biz_1", 3)
    progress = CountingProgress(store)
    relay = OutboxRelay(store, progress, RecordingPublisher(), batch_size=1)
    assert await relay.catch_up(LEASE, {"biz_1"}) == 3
    assert progress.reads == 1
    # A new epoch: another holder may have published meanwhile, so the relay reads again.
    newer = Lease("relay", 0, "relay-a", epoch=2)
    assert await relay.catch_up(newer, {"biz_1"}) == 0
    assert progress.reads == 2


def test_every_partition_has_one_owner_and_a_dead_member_only_loses_its_own():
    members = ["relay-a", "relay-b", "relay-c"]
    owners = {partition: owner_of(partition, members) for partition in range(16)}
    assert set(owners.values()) <= set(members)
    shares = [owned_by(member, 16, members) for member in members]
    assert sorted(p for share in shares for p in share) == list(range(16))
    survivors = ["relay-a", "relay-c"]
    for partition, owner in owners.items():
        if owner != "relay-b":
            assert owner_of(partition, survivors) == owner


def test_a_business_always_maps_to_the_same_log_partition():
    assert log_partition_of("biz_7f3a", 8) == log_partition_of("biz_7f3a", 8)
    assert {log_partition_of(f"biz_{index}", 8) for index in range(200)} == set(range(8))
