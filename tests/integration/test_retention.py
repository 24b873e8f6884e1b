import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from dependency_injector import providers

from application.commands.erase_expired_customers import RETENTION_ACTOR, EraseExpiredCustomers
from infrastructure.container import Container
from infrastructure.runtime import start_storage, stop_storage
from infrastructure.system import SystemClock
from tests.conftest import settings_environment
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"
ROOT = Path(__file__).resolve().parents[2]


class TwoDaysAhead(SystemClock):
    def now(self):
        return super().now() + timedelta(days=2)


async def test_retention_erases_customers_deleted_longer_ago_than_the_period(api, workers, settings, container):
    kept = (await api.post(CUSTOMERS, json={"first_name": "Kept"}, headers=bearer(settings))).json()
    gone = (
        await api.post(CUSTOMERS, json={"first_name": "Gone", "email": "gone@example.com"}, headers=bearer(settings))
    ).json()
    assert (
        await api.delete(f"{CUSTOMERS}/{gone['id']}", headers=bearer(settings, roles=("manager",)))
    ).status_code == 204
    await api.get(f"{CUSTOMERS}/{gone['id']}?min_version=2", headers=bearer(settings))

    # Nobody was deleted more than a day ago yet.
    report = await container.erase_expired_customers().execute(EraseExpiredCustomers(retention_days=1))
    assert report.erased == []

    later = Container()
    later.settings.override(providers.Object(settings))
    later.clock.override(providers.Singleton(TwoDaysAhead))
    await start_storage(later)
    try:
        dry = await later.erase_expired_customers().execute(EraseExpiredCustomers(retention_days=1, dry_run=True))
        assert dry.would_erase == [gone["id"]] and dry.erased == []
        report = await later.erase_expired_customers().execute(EraseExpiredCustomers(retention_days=1))
    finally:
        await stop_storage(later)
    assert report.erased == [gone["id"]]
    events = await container.event_store().load_stream("biz_1", gone["id"])
    assert (events[-1].event.routing_key, events[-1].metadata.actor) == ("customer.erased", RETENTION_ACTOR)
    assert [event.event.routing_key for event in await container.event_store().load_stream("biz_1", kept["id"])] == [
        "customer.registered"
    ]


async def test_the_retention_command_reports_as_json(settings, container):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interfaces.cli.main",
        "retention",
        "run",
        "--days",
        "30",
        "--dry-run",
        env=settings_environment(settings),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout)["would_erase"] == []
    assert b"0 erased" in stderr
