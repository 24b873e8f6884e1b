"""How worker loops end: only when asked, and never silently."""

import asyncio

import pytest

from infrastructure.runtime import restarting, run_together

pytestmark = pytest.mark.unit


async def cancelled_from_within() -> None:
    # As a closed connection does to a future its reader waits on.
    waited = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(waited.cancel)
    await waited


async def waiting_until_cancelled(cancelled: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        cancelled.set()
        raise


async def test_a_run_cancelled_from_within_is_started_again() -> None:
    stop = asyncio.Event()
    runs = 0

    async def run() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            await cancelled_from_within()

    await asyncio.wait_for(restarting("worker", stop, run), timeout=10)
    assert runs == 3


async def test_a_worker_asked_to_stop_by_cancelling_stops() -> None:
    stop = asyncio.Event()
    started = asyncio.Event()

    async def run() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(restarting("worker", stop, run))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_loop_cancelled_from_within_fails_the_group_and_stops_its_siblings() -> None:
    sibling_cancelled = asyncio.Event()
    sibling = waiting_until_cancelled(sibling_cancelled)

    with pytest.raises(ExceptionGroup) as failed:
        await asyncio.wait_for(run_together(sibling, cancelled_from_within()), timeout=10)
    assert failed.group_contains(RuntimeError, match="cancelled from within")
    assert sibling_cancelled.is_set()


async def test_a_loop_that_fails_stops_its_siblings() -> None:
    sibling_cancelled = asyncio.Event()
    sibling = waiting_until_cancelled(sibling_cancelled)

    async def failing() -> None:
        raise ValueError("broken")

    with pytest.raises(ExceptionGroup):
        await asyncio.wait_for(run_together(sibling, failing()), timeout=10)
    assert sibling_cancelled.is_set()
