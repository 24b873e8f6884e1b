"""The compose stack's broker users (deploy/rabbitmq/definitions.json), loaded into a vhost
of the test's own on the real RabbitMQ: each process works with only its permissions,
and none can publish what isn't its to publish."""

import asyncio
import json
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import aio_pika
import aiormq
import pytest
from dependency_injector import providers

from infrastructure.container import Container
from infrastructure.runtime import run_integration, run_outbox_relay, run_projectors, start_storage, stop_storage
from tests.conftest import serve_api
from tests.inbound import Publisher, envelope, order_placed, wait_until_processed
from tests.tokens import bearer

pytestmark = pytest.mark.integration
DEFINITIONS = json.loads((Path(__file__).parents[2] / "deploy/rabbitmq/definitions.json").read_text())


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def broker_users():
    """Every user of the definitions, suffixed, with its permissions on a fresh vhost."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not available to load the definitions")
    run = uuid.uuid4().hex[:8]
    vhost = f"crm_permissions_{run}"
    try:
        rabbitmqctl("add_vhost", vhost)
    except subprocess.CalledProcessError as error:
        pytest.skip(f"rabbitmqctl can't manage this broker: {error.stderr!r}")
    passwords = {}
    try:
        for permission in DEFINITIONS["permissions"]:
            # Hex: never a leading "-", which rabbitmqctl would read as an option.
            user, password = f"{permission['user']}-{run}", secrets.token_hex(16)
            rabbitmqctl("add_user", user, password)
            rabbitmqctl(
                "set_permissions", "-p", vhost, user, permission["configure"], permission["write"], permission["read"]
            )
            passwords[permission["user"]] = f"amqp://{user}:{password}@127.0.0.1:5672/{vhost}"
        yield passwords
    finally:
        for user in passwords:
            subprocess.run(["rabbitmqctl", "--quiet", "delete_user", f"{user}-{run}"], capture_output=True, timeout=60)
        subprocess.run(["rabbitmqctl", "--quiet", "delete_vhost", vhost], capture_output=True, timeout=60)


async def test_each_process_works_with_its_own_broker_user_only(settings, container, broker_users):
    # The definitions name exchanges without a namespace: the vhost keeps this test apart.
    def as_user(user: str):
        return settings.model_copy(update={"rabbitmq_url": broker_users[user], "amqp_namespace": ""})

    containers = {}
    stop = asyncio.Event()
    tasks = []
    for user, run in (
        ("crm-relay", run_outbox_relay),
        ("crm-projector", run_projectors),
        ("crm-integration", run_integration),
    ):
        containers[user] = Container()
        containers[user].settings.override(providers.Object(as_user(user)))
        await start_storage(containers[user])
        tasks.append(asyncio.create_task(run(containers[user], stop)))
    try:
        async with serve_api(as_user("crm-api")) as api:
            assert (await api.get("/ready")).status_code == 200
            created = await api.post(
                "/api/v1/businesses/biz_1/customers", json={"first_name": "Ana"}, headers=bearer(settings)
            )
            read = await api.get(
                f"/api/v1/businesses/biz_1/customers/{created.json()['id']}?min_version=1", headers=bearer(settings)
            )
            assert read.status_code == 200, read.text

            # An erasure (by the API's user) drops the parked messages about the person.
            customer_id = created.json()["id"]
            dead_letters = "crm.projection.customer_details.dlq"
            projector = await aio_pika.connect(broker_users["crm-projector"])
            async with projector:
                channel = await projector.channel(publisher_confirms=True)
                exchange = await channel.get_exchange("crm.dead_letter", ensure=False)
                await exchange.publish(aio_pika.Message(b"{}", headers={"x-crm-stream": customer_id}), dead_letters)
            erased = await api.post(
                f"/api/v1/businesses/biz_1/customers/{customer_id}/erase", headers=bearer(settings, roles=("admin",))
            )
            assert erased.status_code == 200, erased.text
            operator = await aio_pika.connect(broker_users["crm-operator"])
            async with operator:
                queue = await (await operator.channel()).declare_queue(dead_letters, passive=True)
                assert queue.declaration_result.message_count == 0

            # The order service publishes to its exchange, and the integration worker consumes it.
            orders = Container()
            orders.settings.override(providers.Object(as_user("orders-service")))
            placed = envelope("order.placed", order_placed())
            async with Publisher(orders, url=broker_users["orders-service"], declare=False) as publisher:
                await publisher.publish(placed)
            await wait_until_processed(container, placed["event_id"])

        # Nobody but the relay may publish to the customers exchange.
        for user in ("crm-api", "crm-projector", "crm-integration", "orders-service"):
            connection = await aio_pika.connect(broker_users[user])
            async with connection:
                channel = await connection.channel(publisher_confirms=True)
                with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                    exchange = await channel.get_exchange("customers", ensure=False)
                    await exchange.publish(aio_pika.Message(b"{}"), routing_key="customer.registered")
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for each in containers.values():
            await stop_storage(each)
