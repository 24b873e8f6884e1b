"""Outside development mode no process starts on a missing or published secret."""

import asyncio
import base64
import secrets
import sys
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.conftest import settings_environment

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SECRET_VARIABLES = [
    "CRM_JWT_SECRET",
    "CRM_MASTER_KEYS",
    "CRM_CONTACT_HMAC_KEY",
    "CRM_MESSAGE_SIGNING_KEY",
    "CRM_CURSOR_SIGNING_KEY",
]


def own_secrets() -> dict[str, str]:
    return {
        "CRM_JWT_SECRET": secrets.token_urlsafe(32),
        "CRM_MASTER_KEYS": "prod-1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "CRM_ACTIVE_MASTER_KEY": "prod-1",
        "CRM_CONTACT_HMAC_KEY": secrets.token_urlsafe(32),
        "CRM_MESSAGE_SIGNING_KEY": secrets.token_urlsafe(32),
        "CRM_CURSOR_SIGNING_KEY": secrets.token_urlsafe(32),
    }


def production(settings: Settings, **overrides: str) -> dict[str, str]:
    """The test's servers, outside development mode, with none of the secrets set."""
    environment = settings_environment(settings)
    for name in [*SECRET_VARIABLES, "CRM_ACTIVE_MASTER_KEY", "CRM_ENV"]:
        environment.pop(name, None)
    return {**environment, **overrides}


async def crm(environment: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interfaces.cli.main",
        *args,
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.mark.parametrize("command", [("api", "--port", "1"), ("worker", "relay"), ("worker", "projector"), ("run",)])
async def test_a_service_without_its_secrets_refuses_to_start_in_one_line(settings, command):
    status, stderr = await crm(production(settings), *command)
    assert status == 2
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "refusing to start" in stderr
    for variable in SECRET_VARIABLES:
        assert variable in stderr


async def test_each_published_development_secret_is_refused_by_name(settings):
    published = {
        "CRM_JWT_SECRET": "change-me-to-a-secret-of-at-least-32-bytes",  # docker-compose's old fallback
        "CRM_MASTER_KEYS": f"{own_secrets()['CRM_MASTER_KEYS']},{Settings.model_fields['master_keys'].default}",
        "CRM_CONTACT_HMAC_KEY": Settings.model_fields["contact_hmac_key"].default,
    }
    mostly_own = {**own_secrets(), **published}
    status, stderr = await crm(production(settings, CRM_ENV="production", **mostly_own), "worker", "integration")
    assert status == 2
    named = stderr.split(":", 2)[-1]
    assert all(variable in named for variable in published)
    assert "CRM_MESSAGE_SIGNING_KEY" not in named and "CRM_CURSOR_SIGNING_KEY" not in named


async def test_operations_commands_refuse_published_secrets_too(settings, container):
    status, stderr = await crm(production(settings), "outbox", "status")
    assert status == 1
    assert "refusing to start" in stderr and "CRM_MASTER_KEYS" in stderr


async def test_secrets_of_its_own_let_it_run_and_development_mode_allows_the_published_ones(settings, container):
    assert (await crm(production(settings, **own_secrets()), "outbox", "status"))[0] == 0
    assert (await crm(production(settings, CRM_ENV="development"), "outbox", "status"))[0] == 0
