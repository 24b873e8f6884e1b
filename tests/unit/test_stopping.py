"""A worker's background duty runs until it is asked to stop, and outlives its failures."""

import asyncio

import pytest

from application.stopping import pause, repeat_until_stopped

pytestmark = pytest.mark.unit


async def test_a_duty_that_fails_is_tried_again_and_stops_when_asked():
    stop = asyncio.Event()
    turns: list[int] = []

    async def duty() -> None:
        turns.append(len(turns))
        if len(turns) == 1:
            raise ConnectionError("the database away")
        if len(turns) == 3:
            stop.set()

    await asyncio.wait_for(repeat_until_stopped(duty, 0.001, stop, "duty failed"), timeout=10)
    assert turns == [0, 1, 2]


async def test_a_pause_ends_as_soon_as_stop_is_set():
    stop = asyncio.Event()
    asyncio.get_running_loop().call_soon(stop.set)
    # A pause of an hour that returns at all has been ended by the stop.
    await asyncio.wait_for(pause(stop, 3600), timeout=10)
    assert stop.is_set()
