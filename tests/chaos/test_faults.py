"""Fault injection under load: kill -9 each process, restart RabbitMQ, Redis and MongoDB.

After each fault heals and the system drains: no acknowledged command or message is lost,
none is applied twice, every read model equals a replay of the event store, and the
outbox is empty. `make chaos` runs it longer (CRM_CHAOS_LOAD_SECONDS); CI runs it short.
"""

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tests.chaos.checks import problems_after
from tests.chaos.load import Load
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos
LOAD_SECONDS = float(os.environ.get("CRM_CHAOS_LOAD_SECONDS", "4"))


def _restart_process(name: str) -> Callable[[ChaosStack], None]:
    def fault(stack: ChaosStack) -> None:
        stack.kill(name)
        time.sleep(0.5)
        stack.start_process(name)
        # The checks after the load ask the API: on a busy machine it may take longer to
        # listen again than the rest of the load lasts.
        stack.wait_until_listening(name)

    return fault


def _restart_redis(stack: ChaosStack) -> None:
    stack.redis.stop()
    time.sleep(1)
    stack.redis.start()


def _restart_rabbitmq(stack: ChaosStack) -> None:
    stack.rabbit.stop()
    stack.rabbit.start()


def _restart_mongodb(stack: ChaosStack) -> None:
    stack.mongo.stop()
    time.sleep(1)
    stack.mongo.start()


FAULTS = {
    "kill -9 the API": _restart_process("api"),
    "kill -9 the relay": _restart_process("relay"),
    "kill -9 the projector": _restart_process("projector"),
    "kill -9 the integration consumer": _restart_process("integration"),
    "restart RabbitMQ": _restart_rabbitmq,
    "stop and start Redis": _restart_redis,
    "stop and start MongoDB": _restart_mongodb,
}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ChaosStack]:
    stack = ChaosStack()
    await asyncio.to_thread(stack.start)
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_nothing_acknowledged_is_lost_or_doubled_after(stack: ChaosStack, fault: str):
    load = Load(stack.base_url, stack.rabbit.url)
    stop = asyncio.Event()
    running = asyncio.create_task(load.run(stop))
    # The fault strikes at a random moment of the load.
    await asyncio.sleep(random.uniform(0.3, 0.7) * LOAD_SECONDS)
    await asyncio.to_thread(FAULTS[fault], stack)
    await asyncio.sleep(LOAD_SECONDS / 2)
    stop.set()
    await asyncio.wait_for(running, timeout=60)

    assert load.acknowledged.total() > 0, f"nothing was acknowledged: {load.acknowledged.refused}"
    healed_at = time.monotonic()
    server_errors = {
        status: count
        for status, count in load.acknowledged.refused.items()
        if isinstance(status, int) and status >= 500 and status != 503
    }
    assert not server_errors, f"server errors: {server_errors}\n{stack.log_of('api')[-3000:]}"
    problems = await problems_after(stack, load.acknowledged)
    acknowledged = load.acknowledged
    print(
        f"\nCHAOS | {fault} | commands acknowledged {len(acknowledged.registered) + sum(map(len, acknowledged.attributes.values())) + sum(map(len, acknowledged.notes.values()))}"
        f" | orders acknowledged {len(acknowledged.orders)} | refused {dict(acknowledged.refused)}"
        f" | drained in {time.monotonic() - healed_at:.1f}s | problems {len(problems)}"
    )
    assert problems == [], "\n".join(problems[:20]) + f"\n\nlogs:\n{stack.log_of('api')[-1500:]}"
    for name, process in stack.processes.items():
        assert process.poll() is None, f"{name} died:\n{stack.log_of(name)}"
