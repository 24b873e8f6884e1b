"""`.env.example` names every setting, and uncommented as it is, it loads."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.settings import Settings

pytestmark = pytest.mark.unit
EXAMPLE = Path(__file__).parents[2] / ".env.example"


def test_every_setting_is_in_the_example():
    named = set(re.findall(r"^# (CRM_\w+)=", EXAMPLE.read_text(), re.M))
    assert named == {f"CRM_{name.upper()}" for name in Settings.model_fields}


def test_the_example_uncommented_and_sourced_gives_the_defaults(tmp_path):
    # Sourced by a shell as the README says, then read by the service's Settings.
    uncommented = tmp_path / ".env"
    uncommented.write_text(re.sub(r"^# (CRM_)", r"\1", EXAMPLE.read_text(), flags=re.M))
    script = (
        f"set -a && . {uncommented} && set +a && "
        f"{sys.executable} -c 'from infrastructure.settings import Settings; print(Settings().model_dump_json())'"
    )
    clean = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=clean, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert Settings.model_validate_json(result.stdout) == Settings.model_construct()
