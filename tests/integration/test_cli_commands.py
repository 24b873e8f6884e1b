"""`crm` operations commands as an operator or a script runs them: `--json` output on the
real servers, and a server that is away reported in one line, never a traceback."""

import asyncio
import json
import sys

import pytest

from infrastructure.projection_registry import PROJECTIONS
from tests.conftest import settings_environment

pytestmark = pytest.mark.integration


async def crm(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interfaces.cli.main",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_status_commands_print_json_for_scripts(settings, container):
    env = settings_environment(settings)
    code, out, err = await crm(env, "outbox", "status", "--json")
    assert code == 0, err
    assert json.loads(out) == {"businesses_behind": 0, "pending_events": 0, "oldest_age_seconds": 0.0}

    code, out, err = await crm(env, "projections", "status", "--json")
    assert code == 0, err
    statuses = json.loads(out)
    assert [status["name"] for status in statuses] == list(PROJECTIONS)
    for status in statuses:
        assert status["behind"] == 0
        assert status["code_version"] == PROJECTIONS[status["name"]].version
        assert status["needs_rebuild"] == (status["built_by_version"] != status["code_version"])

    code, out, err = await crm(env, "dlq", "list", "--json")
    assert code == 0, err
    assert all({"name", "depth"} <= set(queue) for queue in json.loads(out))


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "show", "--business", "biz_1"),
        ("retention", "run", "--dry-run"),
        ("keys", "rotate"),
        ("outbox", "status", "--json"),
        ("projections", "status", "--json"),
    ],
)
async def test_a_database_away_is_one_line(settings, args):
    env = {
        **settings_environment(settings),
        "CRM_MONGODB_URL": "mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300",
    }
    code, out, err = await crm(env, *args)
    assert code == 1
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("retention:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: MongoDB: ServerSelectionTimeoutError")


async def test_a_broker_away_is_one_line(settings):
    env = {**settings_environment(settings), "CRM_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/"}
    code, out, err = await crm(env, "dlq", "list", "--json")
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: AMQPConnectionError"), err
