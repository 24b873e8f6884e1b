import pytest

from application.commands.context import CommandContext
from application.commands.customer_changes import CustomerChanges
from application.commands.register_customer import RegisterCustomer, RegisterCustomerHandler
from application.outbox_relay import RELAY_CHECKPOINT, OutboxRelay
from domain.customer.aggregate import ProfileInput
from tests.fakes import NoOutcomes, NoSnapshots, FixedClock, InMemoryCheckpoints, InMemoryEventStore, NoSignal, RecordingPublisher, SequentialIds

pytestmark = pytest.mark.unit
CONTEXT = CommandContext(actor="user_1", correlation_id="corr_1", causation_id="http:1")


async def _registered(count: int) -> InMemoryEventStore:
    clock = FixedClock()
    store = InMemoryEventStore(clock)
    register = RegisterCustomerHandler(CustomerChanges(store, NoSnapshots(), NoOutcomes(), 50), SequentialIds(), clock, default_region="PT")
    for index in range(count):
        await register.execute(
            RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name=f"N{index}")), CONTEXT
        )
    return store


async def test_the_relay_publishes_in_position_order_in_batches():
    store = await _registered(5)
    publisher, checkpoints = RecordingPublisher(), InMemoryCheckpoints()
    relay = OutboxRelay(store, checkpoints, publisher, NoSignal(), batch_size=2, idle_sleep_seconds=0)
    sent = [await relay.publish_next_batch() for _ in range(4)]
    assert sent == [2, 2, 1, 0]
    assert [event.position for event in publisher.published] == [1, 2, 3, 4, 5]
    assert await checkpoints.load(RELAY_CHECKPOINT) == 5


async def test_a_failed_publish_leaves_the_checkpoint_so_the_batch_is_sent_again():
    store = await _registered(2)
    publisher, checkpoints = RecordingPublisher(), InMemoryCheckpoints()
    relay = OutboxRelay(store, checkpoints, publisher, NoSignal(), batch_size=10, idle_sleep_seconds=0)
    publisher.fail_next = True
    with pytest.raises(ConnectionError):
        await relay.publish_next_batch()
    assert await checkpoints.load(RELAY_CHECKPOINT) == 0
    assert await relay.publish_next_batch() == 2
    assert [event.position for event in publisher.published] == [1, 2]
