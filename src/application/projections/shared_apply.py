"""The partitions of a projection in one process apply their batches together.

Each partition's consumer hands its batch here. Batches that arrive while an apply runs
wait, and go together in the next one, so what a batch costs the database (reading the
views, writing them and their search entries, the cache) is paid once for all of them;
with a few events per partition at a time, that is most of a projection's round trips.
Nobody waits for a group to fill: a batch that finds no apply running goes at once.

Order holds: a customer's events all travel in one partition, whose consumer waits for
its batch before it takes the next. A group that fails is applied again batch by batch,
so one partition's bad event fails its own batch only (its consumer then handles it as
it would have alone: retries, or parks the message).
"""

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from application.events import RecordedEvent
from application.projections.partition_batches import ApplyEvents


@dataclass(eq=False)
class _Pending:
    events: list[RecordedEvent]
    outcome: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def __post_init__(self) -> None:
        # Its caller may have gone away (a partition handed over): the outcome is read here.
        self.outcome.add_done_callback(lambda outcome: outcome.cancelled() or outcome.exception())

    def settle(self, error: BaseException | None = None) -> None:
        if self.outcome.done():
            return
        if error is None:
            self.outcome.set_result(None)
        else:
            self.outcome.set_exception(error)


class SharedApply:
    def __init__(self, apply: ApplyEvents, max_events: int):
        self._apply = apply
        self._max_events = max_events
        self._waiting: deque[_Pending] = deque()
        self._runner: asyncio.Task[None] | None = None
        self.applies = 0  # how many applies ran (a test counts them)

    async def __call__(self, events: Sequence[RecordedEvent]) -> None:
        pending = _Pending(list(events))
        self._waiting.append(pending)
        if self._runner is None:
            # A task of its own: a partition stopped mid-batch must not cancel the others' apply.
            self._runner = asyncio.create_task(self._drain())
        await asyncio.shield(pending.outcome)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._apply_group(self._next_group())
        except BaseException as error:
            while self._waiting:
                self._waiting.popleft().settle(error)
            raise
        finally:
            self._runner = None

    def _next_group(self) -> list[_Pending]:
        group = [self._waiting.popleft()]
        size = len(group[0].events)
        while self._waiting and size + len(self._waiting[0].events) <= self._max_events:
            pending = self._waiting.popleft()
            group.append(pending)
            size += len(pending.events)
        return group

    async def _apply_group(self, group: list[_Pending]) -> None:
        try:
            if len(group) > 1:
                try:
                    await self._run([event for pending in group for event in pending.events])
                except Exception:  # noqa: S110 - each batch is applied alone below, and fails alone
                    pass
                else:
                    for pending in group:
                        pending.settle()
                    return
            for pending in group:
                try:
                    await self._run(pending.events)
                except Exception as error:
                    pending.settle(error)
                else:
                    pending.settle()
        except BaseException as error:  # cancelled: nobody of the group is left waiting
            for pending in group:
                pending.settle(error)
            raise

    async def _run(self, events: list[RecordedEvent]) -> None:
        self.applies += 1
        await self._apply(events)
