"""Bulk writes cut into commands that each run about `TARGET_COMMAND_SECONDS`.

SecantusDB runs one write command at a time and every client waits behind it: a rebuild's
flush of 100,000 customers as one `bulk_write` kept readers waiting for seconds. What one
document costs varies tenfold with its index entries (about 40 µs each: a search entry has
about 115, a view about 40), so a fixed count of 200 still held readers 0.7 s behind a
command of search entries. Commands are sized by their time instead: the first few are
timed, and the next ones carry what fits in the target. On MongoDB commands are quick and
reach `MOST_PER_COMMAND`.
"""

import time
from collections.abc import Sequence
from typing import Any

TARGET_COMMAND_SECONDS = 0.05
MOST_PER_COMMAND = 200
FIRST_COMMAND = 10


class CommandSizer:
    """How many operations the next write command carries, from the commands timed so far."""

    def __init__(self, most: int = MOST_PER_COMMAND, target_seconds: float = TARGET_COMMAND_SECONDS):
        self._most = most
        self._target = target_seconds
        self.size = min(FIRST_COMMAND, most)

    def took(self, operations: int, seconds: float) -> None:
        fits = int(self._target * operations / seconds) if seconds > 0 else self._most
        # Shrinks at once; grows at most twofold, as one quick command says little.
        self.size = max(1, min(self._most, fits, 2 * self.size))


async def bulk_write_in_chunks(
    collection: Any, operations: Sequence[Any], ordered: bool, most: int = MOST_PER_COMMAND
) -> None:
    """`bulk_write` of `operations` in their order, in commands sized by `CommandSizer`."""
    sizer = CommandSizer(most)
    start = 0
    while start < len(operations):
        command = list(operations[start : start + sizer.size])
        began = time.perf_counter()
        await collection.bulk_write(command, ordered=ordered)
        sizer.took(len(command), time.perf_counter() - began)
        start += len(command)
