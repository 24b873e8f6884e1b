"""Waiting and repeating until a worker is asked to stop (its `stop` event)."""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or until `stop` is set if that comes first."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def repeat_until_stopped(
    duty: Callable[[], Awaitable[object]], every_seconds: float, stop: asyncio.Event, failure: str
) -> None:
    """Does `duty` every `every_seconds` until `stop`. A failure (the database away) is
    logged as `failure`, and the duty is tried again at its next turn."""
    while not stop.is_set():
        try:
            await duty()
        except Exception:
            log.exception(failure)
        await pause(stop, every_seconds)
