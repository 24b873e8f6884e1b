"""Schemathesis, every check, against the running service (`scripts/fuzz-api.sh`, what
`make fuzz` runs at length, with every phase): a short run with a fixed seed must find
nothing. The schema says what the service accepts; `schemathesis.toml` lists the rules no
schema can state."""

import asyncio
import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = 32


async def test_schemathesis_finds_nothing_with_every_check():
    process = await asyncio.create_subprocess_exec(
        "bash",
        "scripts/fuzz-api.sh",
        "--seed",
        "20261206",
        "--generation-database",
        "none",
        # The coverage phase (boundary values of every schema construct) is `make fuzz`'s; here
        # it once failed inside hypothesis itself ("AST constructor recursion depth mismatch").
        "--phases",
        "examples,fuzzing,stateful",
        cwd=ROOT,
        env={**os.environ, "FUZZ_EXAMPLES": "10"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested is not None and int(tested.group(1)) == OPERATIONS, report[-3000:]
    assert "No issues found" in report or " failures" not in report, report[-3000:]
