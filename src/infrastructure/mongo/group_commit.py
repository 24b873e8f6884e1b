"""Group commit: the commits of one business that arrive while its transaction runs wait,
and go together in the next transaction.

A transaction costs the same few round trips whether it carries one commit or twenty, so
under load a command costs a fraction of one. One transaction per business runs at a
time in a process (a second one would only conflict with the first on the business's log
head); businesses do not wait for each other. Nobody waits for a group to fill: a commit
that finds no transaction running goes at once.

A commit that cannot go with the others (it would append to a stream another commit of the
group appends to, or claim what another claims) waits for the next group. A commit that
fails in the transaction fails alone: the writer says which one it was, and the others
are written again without it.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from application.commits import Commit
from application.events import EventMetadata


@dataclass(eq=False)
class PendingCommit:
    commit: Commit
    metadata: EventMetadata
    outcome: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def __post_init__(self) -> None:
        # Its caller may have gone away: the outcome is then read here, not reported as lost.
        self.outcome.add_done_callback(lambda outcome: outcome.cancelled() or outcome.exception())


class CommitFailed(Exception):
    """Raised by a group writer: `pending` cannot be written, for `error`; the rest can be retried."""

    def __init__(self, pending: PendingCommit, error: BaseException):
        super().__init__(str(error))
        self.pending = pending
        self.error = error


# Writes the group in one transaction and returns each commit's last position, in order.
GroupWriter = Callable[[Sequence[PendingCommit]], Awaitable[list[int]]]
# What a commit claims that no other commit of the same group may claim too.
ExclusiveClaims = Callable[[Commit], set[str]]
# Called with the business and its log's new head once a group of it was written (the
# relay's wake).
Written = Callable[[str, int], Awaitable[None]]


class GroupCommit:
    def __init__(self, write: GroupWriter, exclusive_claims: ExclusiveClaims, max_group: int, written: Written):
        self._write = write
        self._exclusive_claims = exclusive_claims
        self._max_group = max_group
        self._written = written
        self._waiting: dict[str, deque[PendingCommit]] = {}
        self._writers: dict[str, asyncio.Task] = {}

    async def submit(self, commit: Commit, metadata: EventMetadata) -> int:
        pending = PendingCommit(commit, metadata)
        self._waiting.setdefault(commit.business_id, deque()).append(pending)
        if commit.business_id not in self._writers:
            # A task of its own: a caller that goes away (a client hanging up) must not
            # cancel the transaction of everyone in its group.
            self._writers[commit.business_id] = asyncio.create_task(self._drain(commit.business_id))
        return await asyncio.shield(pending.outcome)

    async def _drain(self, business_id: str) -> None:
        waiting = self._waiting[business_id]
        try:
            while waiting:
                group = self._next_group(waiting)
                if head := await self._write_group(group):
                    await self._written(business_id, head)
        finally:
            del self._writers[business_id]
            if not waiting:
                del self._waiting[business_id]
            else:  # a writer that failed unexpectedly leaves the rest to a new one
                self._writers[business_id] = asyncio.create_task(self._drain(business_id))

    def _next_group(self, waiting: deque[PendingCommit]) -> list[PendingCommit]:
        group: list[PendingCommit] = []
        taken: set[str] = set()
        deferred: list[PendingCommit] = []
        while waiting and len(group) < self._max_group:
            pending = waiting.popleft()
            claims = self._exclusive_claims(pending.commit)
            if claims & taken:
                deferred.append(pending)
                continue
            taken |= claims
            group.append(pending)
        waiting.extendleft(reversed(deferred))
        return group

    async def _write_group(self, group: list[PendingCommit]) -> int:
        """The last position written (0: none of the group was)."""
        while group:
            try:
                positions = await self._write(group)
            except CommitFailed as failure:
                _settle(failure.pending, error=failure.error)
                group = [pending for pending in group if pending is not failure.pending]
                continue
            except BaseException as error:  # the whole group failed (the database is away...)
                for pending in group:
                    _settle(pending, error=error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                return 0
            for pending, position in zip(group, positions, strict=True):
                _settle(pending, position=position)
            return max(positions)
        return 0


def _settle(pending: PendingCommit, position: int | None = None, error: BaseException | None = None) -> None:
    if pending.outcome.done():
        return
    if error is not None:
        pending.outcome.set_exception(error)
    else:
        pending.outcome.set_result(position)
