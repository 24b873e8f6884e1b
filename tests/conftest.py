"""Fixtures: one real MongoDB-protocol server per session; per test, its own database and AMQP names."""

import asyncio
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from infrastructure.container import Container
from infrastructure.mongo.embedded import EmbeddedMongo, free_port
from infrastructure.operations.namespaces import remove_namespace
from infrastructure.runtime import start_storage, stop_storage
from infrastructure.settings import Settings

pytest_plugins = ["tests.stall_watch"]

# Processes the tests start run on the development secrets, as `make test` says.
os.environ.setdefault("CRM_ENV", "development")
RABBITMQ_URL = os.environ.get("CRM_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("CRM_REDIS_URL", "redis://127.0.0.1:6379/15")
METRICS_TOKEN = "test-metrics-token"


def fresh_server() -> Iterator[str]:
    """SecantusDB started for the caller's scope, unless CRM_TEST_MONGODB_URL names a server."""
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


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    yield from fresh_server()


@pytest.fixture
def settings(mongodb_url: str) -> Settings:
    run = uuid.uuid4().hex[:10]
    return Settings(
        env="development",
        mongodb_url=mongodb_url,
        mongodb_database=f"crm_test_{run}",
        rabbitmq_url=RABBITMQ_URL,
        redis_url=REDIS_URL,
        redis_key_prefix=f"test_{run}:",
        amqp_namespace=f"test_{run}.",
        jwt_secret="test-secret-which-is-long-enough",
        metrics_token=METRICS_TOKEN,
        # Two partitions: every test exercises the partitioned paths, at little cost.
        consumer_partitions=2,
        log_partitions=2,
        # Fast hand-overs: tests start and stop workers often.
        membership_ttl_seconds=1.5,
        lease_margin_seconds=0.5,
        read_model_refresh_seconds=0.2,
        access_log_spool_dir=os.path.join(tempfile.gettempdir(), f"crm-test-access-log-{run}"),
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
        await stop_storage(container)
        await remove_namespace(settings)


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
        uvicorn.Config(
            create_app(app_container),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            # A request still running at the end (one a test gave up on) must not hold the
            # teardown for ever: it is cancelled after this.
            timeout_graceful_shutdown=10,
        )
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
        # Bounded: a CI run once stayed here for good after a test had passed (the server
        # still listening, its shutdown not returning); the test's verdict stands either way.
        done, _ = await asyncio.wait({serving}, timeout=30)
        if not done:
            warnings.warn("the test API did not stop within 30 s; cancelled", stacklevel=1)
            serving.cancel()
            await asyncio.wait({serving}, timeout=10)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_api(settings) as client:
        yield client


@pytest.fixture
async def workers(container: Container) -> AsyncIterator[dict[str, asyncio.Task]]:
    """The relay, the projector and the integration worker, running in this process against the real servers."""
    import asyncio

    from infrastructure.runtime import run_integration, run_outbox_relay, run_projectors

    stop = asyncio.Event()
    tasks = {
        "integration": asyncio.create_task(run_integration(container, stop)),
        "projector": asyncio.create_task(run_projectors(container, stop)),
        "relay": asyncio.create_task(run_outbox_relay(container, stop)),
    }
    try:
        await until_workers_are_ready(container, tasks)
        yield tasks
    finally:
        # Also when they never got ready: workers left running once outlived their test,
        # failing for ever against its closed clients, and starved every later test.
        stop.set()
        # A worker that does not stop within 10 s (a batch still inside a slow transaction)
        # is cancelled; the teardown never waits on it for ever.
        _, running = await asyncio.wait(tasks.values(), timeout=10)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=10)


async def until_workers_are_ready(container: Container, tasks: dict[str, asyncio.Task], timeout: float = 60) -> None:
    """Until every partition queue has its consumer and the relay holds every log partition.
    A test's first command then meets running workers: one that landed while they were
    still joining waited out a read-your-writes wait on a busy CI machine (a 503)."""
    import aio_pika
    from aio_pika.exceptions import ChannelClosed

    from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
    from infrastructure.messaging.topology import queue_names
    from infrastructure.mongo.documents import Lease
    from infrastructure.projection_registry import PROJECTIONS

    settings = container.settings()
    names = container.amqp_names()
    partition_queues = [
        name
        for name in queue_names(names, list(PROJECTIONS), list(ROUTING_KEYS_BY_EXCHANGE), settings.consumer_partitions)
        if not name.endswith(".dlq")
    ]
    leases = container.database()[Lease.Settings.name]

    async def unconsumed(connection: aio_pika.abc.AbstractConnection) -> list[str]:
        """The partition queues with no consumer yet (or not declared yet)."""
        waiting = []
        for name in partition_queues:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except ChannelClosed:  # not declared yet
                waiting.append(f"{name} (not declared)")
                continue
            finally:
                if not channel.is_closed:
                    await channel.close()
            if not queue.declaration_result.consumer_count:
                waiting.append(name)
        return waiting

    started = asyncio.get_running_loop().time()
    async with await aio_pika.connect(RABBITMQ_URL) as connection:
        while True:
            for task in tasks.values():
                if task.done():
                    task.result()  # a worker that failed to start fails the test here
            relayed = await leases.count_documents(
                {"_id": {"$regex": "^relay\\|"}, "expires_at": {"$gt": container.clock().now()}}
            )
            waiting = await unconsumed(connection)
            if relayed >= settings.log_partitions and not waiting:
                took = asyncio.get_running_loop().time() - started
                if took > 10:
                    warnings.warn(f"the workers took {took:.1f} s to consume", stacklevel=1)
                return
            if asyncio.get_running_loop().time() - started > timeout:
                raise TimeoutError(
                    f"the workers were not consuming within {timeout} s: relay leases held"
                    f" {relayed} of {settings.log_partitions}; queues without a consumer: {waiting}"
                )
            await asyncio.sleep(0.1)
