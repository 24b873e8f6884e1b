"""`crm api --workers 2`: two API processes share the port, and `/metrics`, whichever of
them answers the scrape, counts the requests of both."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from infrastructure.mongo.embedded import free_port
from tests.conftest import METRICS_TOKEN, settings_environment
from tests.tokens import bearer

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 40


def _http_requests(exposition: str, route: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("crm_http_requests_total{") and f'route="{route}"' in line
    )


async def test_two_api_processes_share_the_port_and_metrics_count_both(settings, tmp_path: Path):
    port = free_port()
    environment = {
        **settings_environment(settings.model_copy(update={"api_port": port})),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interfaces.cli.main", "api", "--workers", "2", env=environment, cwd=ROOT
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(300):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            path = "/api/v1/businesses/biz_1/customers"
            for _ in range(REQUESTS):
                # A new connection each time: the kernel spreads them over the two processes.
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as fresh:
                    assert (await fresh.get(path, headers=bearer(settings))).status_code == 200
            route = "/api/v1/businesses/{business_id}/customers"
            for _ in range(4):  # any process may answer a scrape: each sees every process's counts
                scraped = (await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
                assert _http_requests(scraped, route) == REQUESTS
        # Both processes wrote metrics (each keeps its own files, by pid).
        pids = {path.stem.rsplit("_", 1)[1] for path in tmp_path.glob("counter_*.db")}
        assert len(pids) == 2, pids
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=20)


@pytest.fixture(autouse=True)
def _no_inherited_multiprocess_directory(monkeypatch):
    # This process's own metrics stay single-process.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
