"""An import whose worker process is killed -9 mid-import: the next worker resumes it once the
dead one's lease has expired, and every row is counted, and created, exactly once."""

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import settings_environment
from tests.tokens import bearer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
IMPORTS = "/api/v1/businesses/biz_1/customers/imports"
ROWS = 3000


async def _worker(settings) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interfaces.cli.main", "worker", "imports", env=settings_environment(settings), cwd=ROOT
    )


async def test_an_import_survives_its_worker_killed_and_resumes_with_exact_totals(api, container, settings):
    manager = bearer(settings, roles=("manager",))
    body = "first_name,phone\n" + "".join(f"Person{n},+35191{n:07d}\n" for n in range(ROWS))
    accepted = await api.post(IMPORTS, content=body.encode(), headers={"Content-Type": "text/csv", **manager})
    assert accepted.status_code == 202
    location = accepted.headers["location"]

    async def report() -> dict:
        response = await api.get(location, headers=manager)
        assert response.status_code == 200
        return response.json()

    async def until(condition, timeout: float) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            current = await report()
            if condition(current):
                return current
            assert asyncio.get_running_loop().time() < deadline, f"timed out at {current}"
            await asyncio.sleep(0.05)

    first = await _worker(settings)
    try:
        await until(lambda current: current["processed"] > 0, timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    at_kill = await report()
    assert at_kill["status"] == "running" and 0 < at_kill["processed"] < ROWS

    second = await _worker(settings)
    try:
        done = await until(lambda current: current["status"] == "done", timeout=120)
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), timeout=20) == 0
    totals = {key: done[key] for key in ("total", "processed", "created", "updated", "skipped", "failed")}
    assert totals == {"total": ROWS, "processed": ROWS, "created": ROWS, "updated": 0, "skipped": 0, "failed": 0}
    database = container.database()
    assert await database["customer_snapshots"].count_documents({"business_id": "biz_1"}) == ROWS
    assert await database["contact_keys"].count_documents({"business_id": "biz_1"}) == ROWS
