"""The containers' health checks (interfaces/cli/healthcheck.py) against real processes:
the API's /health, and a worker's own heartbeat on its metrics port."""

import asyncio
import os
import signal
import sys
import time

import pytest

from infrastructure.mongo.embedded import free_port
from interfaces.cli.healthcheck import Unhealthy, check_api, check_worker
from tests.conftest import settings_environment

pytestmark = pytest.mark.integration


async def healthcheck(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interfaces.cli.healthcheck", *args, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_the_api_check_reads_health(api):
    port = api.base_url.port
    # In a thread: the API shares this test's event loop.
    assert await asyncio.to_thread(check_api, port) == f"api on {port}: ok"
    assert (await healthcheck("api", "--port", str(port))) == (0, "")
    code, err = await healthcheck("api", "--port", str(free_port()))
    assert code == 1 and err.startswith("unhealthy:") and "Connection refused" in err


async def test_a_worker_is_healthy_while_its_loop_beats_and_not_when_stopped(settings, container):
    port = free_port()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interfaces.cli.main",
        "worker",
        "relay",
        env={**settings_environment(settings), "CRM_METRICS_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # until the worker has started and beaten once
            code, err = await healthcheck("worker", "--port", str(port))
            if code == 0:
                break
            assert worker.returncode is None, "the worker exited"
            await asyncio.sleep(0.1)
        assert code == 0, err
        assert "heartbeat" in check_worker(port, max_age=30)
        # A heartbeat older than --max-age is a stuck loop.
        with pytest.raises(Unhealthy, match="loop is stuck"):
            check_worker(port, max_age=30, now=time.time() + 120)
        # A frozen process does not answer at all.
        os.kill(worker.pid, signal.SIGSTOP)
        code, err = await healthcheck("worker", "--port", str(port))
        assert code == 1 and err.startswith("unhealthy:"), err
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        worker.terminate()
        await asyncio.wait_for(worker.wait(), timeout=30)


async def test_a_worker_check_without_a_port_says_so():
    env = {key: value for key, value in os.environ.items() if key != "CRM_METRICS_PORT"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interfaces.cli.healthcheck", "worker", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 1 and b"CRM_METRICS_PORT" in err
