"""A later version delivered before the one it follows is not applied out of order."""

import asyncio

import pytest

from application.commands.context import CommandContext
from application.commands.register_customer import RegisterCustomer
from application.commands.update_customer import UpdateCustomer
from domain.customer.aggregate import ProfileInput
from infrastructure.runtime import run_projectors
from tests.projections import publish_as_relay

pytestmark = pytest.mark.integration
CONTEXT = CommandContext(actor="user_1", correlation_id="c", causation_id="k")


async def test_version_two_before_version_one_fetches_the_gap_and_ignores_the_late_one(container):
    # Two events committed while no relay runs: nothing is published by itself.
    created = await container.register_customer().execute(
        RegisterCustomer(business_id="biz_1", profile=ProfileInput(first_name="Ana")), CONTEXT
    )
    customer_id = created.customer.id
    await container.update_customer().execute(
        UpdateCustomer(business_id="biz_1", customer_id=customer_id, changes={"last_name": "Silva"}), CONTEXT
    )
    first, second = await container.event_store().load_stream("biz_1", customer_id)

    stop = asyncio.Event()
    projector = asyncio.create_task(run_projectors(container, stop))
    try:
        await publish_as_relay(container, [second, first, second])  # out of order, then a duplicate
        views = container.customer_views()
        history = container.customer_history()
        for _ in range(300):
            view = await views.get("biz_1", customer_id)
            entries = await history.page("biz_1", customer_id, None, 10)
            if view is not None and view.version == 2 and len(entries) == 2:
                break
            await asyncio.sleep(0.02)
        # Let the late version 1 and the duplicate be consumed too.
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.wait_for(projector, timeout=10)
    view = await container.customer_views().get("biz_1", customer_id)
    assert (view.version, view.first_name, view.last_name) == (2, "Ana", "Silva")
    history = await container.customer_history().page("biz_1", customer_id, None, 10)
    assert [entry.version for entry in history] == [2, 1]
