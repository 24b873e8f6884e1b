"""Bulk writes cut into commands of a bounded size.

SecantusDB runs one write command at a time and every client waits behind it: a rebuild's
flush of 100,000 customers as one `bulk_write` kept readers waiting for seconds. In
commands of `CHUNK` operations, a reader waits behind one of them at most.
"""

from collections.abc import Sequence
from typing import Any

CHUNK = 200


async def bulk_write_in_chunks(collection: Any, operations: Sequence[Any], ordered: bool, chunk: int = CHUNK) -> None:
    """`bulk_write` of `operations`, `chunk` at a time, in their order."""
    for start in range(0, len(operations), chunk):
        await collection.bulk_write(list(operations[start : start + chunk]), ordered=ordered)
