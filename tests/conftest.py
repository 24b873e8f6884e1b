"""Fixtures: one real MongoDB-protocol server per session; per test, its own database and AMQP names."""

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import httpx
import pytest
from dependency_injector import providers

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.container import Container
from infrastructure.messaging.topology import PROJECTIONS, Names
from infrastructure.mongo.embedded import EmbeddedMongo, free_port
from infrastructure.runtime import start_storage, stop_storage
from infrastructure.settings import Settings

RABBITMQ_URL = os.environ.get("CRM_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    """SecantusDB started for this test session, unless CRM_TEST_MONGODB_URL names a server."""
    given = os.environ.get("CRM_TEST_MONGODB_URL")
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="crm-test-mongo-") as directory:
        server = EmbeddedMongo(free_port(), Path(directory) / "data", Path(directory) / "server.log")
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def settings(mongodb_url: str) -> Settings:
    run = uuid.uuid4().hex[:10]
    return Settings(
        mongodb_url=mongodb_url,
        mongodb_database=f"crm_test_{run}",
        rabbitmq_url=RABBITMQ_URL,
        redis_url=REDIS_URL,
        redis_key_prefix=f"test_{run}:",
        amqp_namespace=f"test_{run}.",
        jwt_secret="test-secret-which-is-long-enough",
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    container = Container()
    container.settings.override(providers.Object(settings))
    await start_storage(container)
    try:
        yield container
    finally:
        await container.mongo_client().drop_database(settings.mongodb_database)
        await _delete_redis_keys(container, settings.redis_key_prefix)
        await stop_storage(container)
        await _delete_amqp_objects(Names(settings.amqp_namespace))


async def _delete_redis_keys(container: Container, prefix: str) -> None:
    client = container.redis_client()
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)


async def _delete_amqp_objects(names: Names) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        queues = [names.projection_queue(projection) for projection in PROJECTIONS]
        queues += [names.inbound_queue(exchange) for exchange in ROUTING_KEYS_BY_EXCHANGE]
        for queue in queues:
            for name in (queue, names.dead_letter_queue(queue)):
                await channel.queue_delete(name)
        exchanges = [names.customers_exchange, names.dead_letter_exchange]
        exchanges += [names.inbound_exchange(exchange) for exchange in ROUTING_KEYS_BY_EXCHANGE]
        for exchange in exchanges:
            await channel.exchange_delete(exchange)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process use the same settings as the test."""
    return {
        **os.environ,
        **{f"CRM_{key.upper()}": str(value) for key, value in settings.model_dump().items()},
    }


@asynccontextmanager
async def serve_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app served by uvicorn on a loopback port, with its own container (its own
    clients), as a deployed API process has. It shares this test's event loop, so the
    in-process workers keep running while a request waits."""
    import asyncio

    import uvicorn

    from interfaces.http.app import create_app

    app_container = Container()
    app_container.settings.override(providers.Object(settings))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(app_container), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await serving


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_api(settings) as client:
        yield client


@pytest.fixture
async def workers(container: Container) -> AsyncIterator[dict[str, "asyncio.Task"]]:
    """The relay, the projector and the integration worker, running in this process against the real servers."""
    import asyncio

    from infrastructure.runtime import run_integration, run_outbox_relay, run_projectors

    stop = asyncio.Event()
    tasks = {
        "integration": asyncio.create_task(run_integration(container, stop)),
        "projector": asyncio.create_task(run_projectors(container, stop)),
        "relay": asyncio.create_task(run_outbox_relay(container, stop)),
    }
    yield tasks
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks.values(), return_exceptions=True), timeout=10)
