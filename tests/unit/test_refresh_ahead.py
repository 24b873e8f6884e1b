"""RefreshAhead: a hot path never waits for a read while it is steady, and never uses a
value older than its max age."""

import asyncio

from infrastructure.refresh_ahead import RefreshAhead


class Stored:
    """What the database holds, and how often it was read."""

    def __init__(self) -> None:
        self.value = 1
        self.reads = 0
        self.gate: asyncio.Event | None = None  # set: reads wait for it

    async def read(self) -> int:
        self.reads += 1
        value = self.value
        if self.gate is not None:
            await self.gate.wait()
        return value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settled() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_young_value_is_not_read_again():
    stored, clock = Stored(), Clock()
    value = RefreshAhead(stored.read, 1.0, "test", clock)
    assert await value.get() == 1
    clock.now += 0.4
    stored.value = 2
    assert await value.get() == 1
    await settled()
    assert stored.reads == 1


async def test_past_half_its_age_a_caller_goes_on_with_the_value_while_it_is_read_again():
    stored, clock = Stored(), Clock()
    value = RefreshAhead(stored.read, 1.0, "test", clock)
    await value.get()
    clock.now += 0.6
    stored.value, stored.gate = 2, asyncio.Event()
    assert await asyncio.wait_for(value.get(), 1) == 1  # the read is held: the caller did not wait for it
    assert await value.get() == 1  # one read ahead at a time
    await settled()
    assert stored.reads == 2
    stored.gate.set()
    await settled()
    assert await value.get() == 2
    assert stored.reads == 2


async def test_past_its_max_age_a_caller_waits_for_the_read():
    stored, clock = Stored(), Clock()
    value = RefreshAhead(stored.read, 1.0, "test", clock)
    await value.get()
    clock.now += 1.0
    stored.value = 2
    assert await value.get() == 2
    assert stored.reads == 2


async def test_a_read_ahead_that_a_forget_overtook_never_lands():
    stored, clock = Stored(), Clock()
    value = RefreshAhead(stored.read, 1.0, "test", clock)
    await value.get()
    clock.now += 0.6
    stored.gate = asyncio.Event()
    await value.get()  # starts a read ahead of value 1, held
    await settled()
    value.set(3)  # this process wrote 3 meanwhile
    stored.gate.set()
    await settled()
    assert await value.get() == 3
