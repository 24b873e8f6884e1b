"""What a run that stalls or is killed still tells: setup errors at once, and the stacks of
every task when one test runs too long.

A CI run was once killed at 20% after 57 minutes, its last line `EEEEEEE` and no reason:
pytest prints an error's text only in the summary at the end, which a killed run never
reaches. Nothing here changes a verdict."""

import asyncio
import faulthandler
import os
import sys
import threading
from collections.abc import Generator
from typing import Any

import pytest

# Far above any test's own time here (the slowest, chaos, take about a minute).
STALL_SECONDS = float(os.environ.get("CRM_TEST_STALL_SECONDS", "300"))

_loop: asyncio.AbstractEventLoop | None = None


@pytest.fixture(scope="session", autouse=True)
async def _watched_loop() -> None:
    global _loop
    _loop = asyncio.get_running_loop()


def _print_tasks(config: pytest.Config, nodeid: str) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n--- {nodeid} has run for {STALL_SECONDS:.0f} s; its tasks:", file=sys.stderr)
        for task in asyncio.all_tasks():
            task.print_stack(limit=12, file=sys.stderr)
        print("--- end of tasks", file=sys.stderr, flush=True)


def _report_stall(config: pytest.Config, nodeid: str) -> None:
    loop = _loop
    if loop is not None and loop.is_running():
        loop.call_soon_threadsafe(_print_tasks, config, nodeid)
    # If the loop itself is blocked, the threads' stacks say where (into the captured
    # output, which a failed test shows).
    faulthandler.dump_traceback(all_threads=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    timer = threading.Timer(STALL_SECONDS, _report_stall, args=(item.config, item.nodeid))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and report.failed:
        terminal = _terminal
        if terminal is not None:
            terminal.write_line("")
            terminal.write_line(f"{report.nodeid} ({report.when}): {report.longreprtext[-2000:]}")


_terminal: Any = None


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    global _terminal
    _terminal = config.pluginmanager.getplugin("terminalreporter")
