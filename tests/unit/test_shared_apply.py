"""The partitions of a projection in one process share their applies: batches that meet
go in one, each still in order, and a bad batch fails alone."""

import asyncio

import pytest

from application.projections.shared_apply import SharedApply


class Recorder:
    def __init__(self, poison: str | None = None):
        self.calls: list[list[str]] = []
        self.poison = poison

    async def __call__(self, events):
        self.calls.append(list(events))
        await asyncio.sleep(0.01)  # a round trip: what arrives meanwhile waits for the next apply
        if self.poison in events:
            raise ValueError(f"cannot apply {self.poison}")


async def test_batches_that_arrive_during_an_apply_go_together_in_the_next():
    recorder = Recorder()
    shared = SharedApply(recorder, max_events=100)
    first = asyncio.create_task(shared(["p0-e1", "p0-e2"]))
    await asyncio.sleep(0.001)  # its apply is running
    await asyncio.gather(first, *(shared([f"p{partition}-e1", f"p{partition}-e2"]) for partition in range(1, 8)))
    assert recorder.calls[0] == ["p0-e1", "p0-e2"]  # nobody waits for a group to fill
    assert len(recorder.calls) == 2
    assert sorted(event for call in recorder.calls for event in call) == sorted(
        f"p{partition}-e{index}" for partition in range(8) for index in (1, 2)
    )
    # Each batch keeps its order inside the group.
    second = recorder.calls[1]
    assert second.index("p3-e1") + 1 == second.index("p3-e2")


async def test_a_group_is_no_larger_than_its_limit():
    recorder = Recorder()
    shared = SharedApply(recorder, max_events=4)
    await asyncio.gather(*(shared([f"p{partition}-a", f"p{partition}-b"]) for partition in range(7)))
    assert [len(call) for call in recorder.calls] == [4, 4, 4, 2]
    assert shared.applies == 4


async def test_a_bad_batch_fails_alone_and_the_others_are_applied():
    recorder = Recorder(poison="p2-bad")
    shared = SharedApply(recorder, max_events=100)
    first = asyncio.create_task(shared(["p0-first"]))
    await asyncio.sleep(0.001)
    outcomes = await asyncio.gather(
        first, shared(["p1-ok"]), shared(["p2-bad"]), shared(["p3-ok"]), return_exceptions=True
    )
    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], ValueError)
    # The group failed once, then each of its batches went alone.
    assert recorder.calls[1] == ["p1-ok", "p2-bad", "p3-ok"]
    assert recorder.calls[2:] == [["p1-ok"], ["p2-bad"], ["p3-ok"]]


async def test_a_caller_that_goes_away_does_not_stop_the_others():
    recorder = Recorder()
    shared = SharedApply(recorder, max_events=100)
    first = asyncio.create_task(shared(["p0"]))
    await asyncio.sleep(0.001)
    leaving = asyncio.create_task(shared(["p1"]))
    staying = asyncio.create_task(shared(["p2"]))
    await asyncio.sleep(0)
    leaving.cancel()
    await first
    await staying
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert recorder.calls[1] == ["p1", "p2"]  # its batch was applied anyway: idempotent, and harmless
