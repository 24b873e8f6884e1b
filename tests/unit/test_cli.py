"""The `crm` command's surface: version, choices, and errors as one line."""

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

pytestmark = pytest.mark.unit


def crm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interfaces.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_version():
    result = crm("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"crm {version('crm')}")


def test_invalid_settings_are_one_line_naming_the_variable():
    result = crm("token", "--business", "biz_1", env={**os.environ, "CRM_JWT_SECRET": "too-short"})
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: invalid settings: CRM_JWT_SECRET:")


@pytest.mark.parametrize(
    "args",
    [("worker", "nope"), ("projections", "verify", "nope"), ("projections", "rebuild", "nope")],
)
def test_names_are_choices(args):
    result = crm(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is not one of" in result.stderr


def test_the_choices_are_the_real_names():
    from infrastructure.projection_registry import PROJECTIONS
    from interfaces.cli.main import WORKERS, WorkerName
    from interfaces.cli.projections import ProjectionName

    assert [name.value for name in ProjectionName] == list(PROJECTIONS)
    assert set(WORKERS) == set(WorkerName)
