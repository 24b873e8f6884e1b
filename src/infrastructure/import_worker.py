"""The import worker (`crm worker imports`): runs the queued bulk imports.

Replicas share the imports through one lease per import in MongoDB (`leases`), longer
than the other workers' (a chunk of rows takes a few seconds), renewed before each chunk.
A replica that stops releases its lease; one that dies leaves it to expire, and the next
one resumes the import at its cursor (application/bulk/import_runner.py).
"""

import asyncio

from application.bulk.import_runner import ImportRunner
from infrastructure.container import Container
from infrastructure.mongo.coordination import MongoPartitionLeases
from infrastructure.runtime import member_id, restarting

IMPORT_LEASE_SECONDS = 15.0


def import_runner(container: Container, member: str | None = None) -> ImportRunner:
    return ImportRunner(
        container.import_store(),
        container.import_rows(),
        MongoPartitionLeases(container.database(), container.clock(), IMPORT_LEASE_SECONDS),
        container.clock(),
        member or member_id(),
    )


async def run_imports(container: Container, stop: asyncio.Event) -> None:
    runner = import_runner(container)
    await restarting("imports", stop, lambda: runner.run(stop))
