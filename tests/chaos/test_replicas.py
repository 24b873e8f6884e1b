"""Every process as several replicas under load, and one replica of each kind killed with -9.

Two API processes, two relays, three projector replicas and two integration replicas share
the work (leases and partitioned queues). While commands and order messages keep coming,
one replica of each kind is killed at a random moment and not restarted: the survivors take
its partitions over. Once the load stops and the system drains, nothing acknowledged is
lost or doubled, every read model equals a rebuild, and a list read at the newest position
holds every acknowledged registration.
"""

import asyncio
import os
import random
import time

import pytest

from tests.chaos.checks import problems_after
from tests.chaos.load import Load
from tests.chaos.stack import ChaosStack

pytestmark = pytest.mark.chaos
LOAD_SECONDS = float(os.environ.get("CRM_CHAOS_LOAD_SECONDS", "4"))
REPLICAS = {"api": 2, "relay": 2, "projector": 3, "integration": 2}


async def test_the_survivors_of_a_kill_9_of_one_replica_of_each_kind_lose_and_double_nothing():
    stack = ChaosStack(REPLICAS)
    await asyncio.to_thread(stack.start)
    try:
        load = Load(stack.base_urls, stack.rabbit.url, clients=6)
        stop = asyncio.Event()
        running = asyncio.create_task(load.run(stop))
        load_seconds = 2 * LOAD_SECONDS
        victims = [random.choice(stack.of_kind(kind)) for kind in REPLICAS]
        moments = sorted(random.uniform(0.2, 0.7) * load_seconds for _ in victims)
        started = time.monotonic()
        for victim, moment in zip(victims, moments, strict=True):
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            await asyncio.to_thread(stack.kill, victim)
        await asyncio.sleep(max(0.0, started + load_seconds - time.monotonic()))
        stop.set()
        await asyncio.wait_for(running, timeout=60)

        acknowledged = load.acknowledged
        assert acknowledged.total() > 0, f"nothing was acknowledged: {acknowledged.refused}"
        server_errors = {
            status: count for status, count in acknowledged.refused.items() if isinstance(status, int) and status >= 500
        }
        assert not server_errors or set(server_errors) == {503}, f"server errors: {server_errors}"
        healed_at = time.monotonic()
        problems = await problems_after(stack, acknowledged)
        print(
            f"\nCHAOS | replicas {REPLICAS} | killed {victims} | registrations {len(acknowledged.registered)}"
            f" | orders {len(acknowledged.orders)} | refused {dict(acknowledged.refused)}"
            f" | drained in {time.monotonic() - healed_at:.1f}s | problems {len(problems)}"
        )
        assert problems == [], "\n".join(problems[:20])
        for name, process in stack.processes.items():
            if name not in victims:
                assert process.poll() is None, f"{name} died:\n{stack.log_of(name)[-2000:]}"
    finally:
        await asyncio.to_thread(stack.stop)
