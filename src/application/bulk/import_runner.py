"""Runs the queued imports, chunk by chunk, under a lease; survives restarts.

One worker at a time holds an import's lease (renewed before every chunk), processes the
chunk at its cursor, and then records the chunk's counts and moves the cursor, only if the
cursor is still there. A worker that stops (or dies) between two chunks leaves the import
for the next one, which resumes at the cursor; one that dies inside a chunk leaves rows
committed beyond the cursor, which the next attempt recognises by their processed-message
ids (`ImportRowsHandler`), so the totals stay exact.
"""

import asyncio
from collections.abc import Callable

import structlog

from application.bulk.import_jobs import ImportJob, ImportStatus, ImportStore
from application.bulk.import_rows import DryRunClaims, ImportRowsHandler
from application.ports import Clock, PartitionLeases
from application.stopping import pause

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.5
# A chunk that keeps failing (say, the database is away) is tried again after a pause; an
# import whose chunk failed this many times in a row is marked failed.
MAX_CHUNK_FAILURES = 20

Progress = Callable[[ImportJob], None]


class ImportRunner:
    def __init__(
        self,
        imports: ImportStore,
        rows: ImportRowsHandler,
        leases: PartitionLeases,
        clock: Clock,
        member: str,
    ):
        self._imports = imports
        self._rows = rows
        self._leases = leases
        self._clock = clock
        self._member = member

    async def run(self, stop: asyncio.Event) -> None:
        """Takes the unfinished imports one after the other until `stop`."""
        while not stop.is_set():
            worked = False
            for job in await self._imports.unfinished(limit=100):
                if stop.is_set():
                    break
                worked |= await self.run_one(job.business_id, job.id, stop)
            if not worked:
                await pause(stop, POLL_SECONDS)

    async def run_one(
        self, business_id: str, import_id: str, stop: asyncio.Event, progress: Progress | None = None
    ) -> bool:
        """Works on one import until it is finished, `stop` is set or another worker holds it;
        False when it could not take the import at all."""
        lease = await self._leases.acquire(_lease_group(import_id), 0, self._member)
        if lease is None:
            return False
        claims = DryRunClaims()
        failures = 0
        try:
            while not stop.is_set():
                job = await self._imports.get(business_id, import_id)
                if job is None or job.status in (ImportStatus.DONE, ImportStatus.FAILED):
                    return True
                if job.status == ImportStatus.QUEUED:
                    await self._imports.mark_running(job, self._clock.now())
                    job = job.model_copy(update={"status": ImportStatus.RUNNING})
                if progress is not None:
                    progress(job)
                if stop.is_set():
                    return True
                if await self._leases.acquire(_lease_group(import_id), 0, self._member) is None:
                    return True  # taken over (this worker was too slow to renew): it goes on there
                try:
                    moved = await self._run_chunk(job, claims)
                    failures = 0
                except Exception as error:  # transient (database away...): the chunk goes again
                    failures += 1
                    log.exception("import chunk failed", import_id=job.id, chunk=job.next_chunk, failure=failures)
                    if failures >= MAX_CHUNK_FAILURES:
                        await self._imports.fail(job, f"{type(error).__name__}: {error}", self._clock.now())
                        return True
                    await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                    continue
                if not moved:
                    return True  # another worker counted this chunk: it holds the import now
            return True
        finally:
            await self._leases.release(lease)
            final = await self._imports.get(business_id, import_id)
            if progress is not None and final is not None:
                progress(final)

    async def _run_chunk(self, job: ImportJob, claims: DryRunClaims) -> bool:
        rows = await self._imports.chunk(job.upload_id, job.next_chunk)
        outcome = await self._rows.execute(job, rows, claims)
        moved = await self._imports.record_chunk(job, job.next_chunk, outcome, self._clock.now())
        log.info(
            "import chunk done",
            import_id=job.id,
            chunk=job.next_chunk,
            chunks=job.chunks,
            created=outcome.created,
            updated=outcome.updated,
            skipped=outcome.skipped,
            failed=outcome.failed,
        )
        return moved


def _lease_group(import_id: str) -> str:
    """Each import has a lease of its own: workers share the imports, one holder each."""
    return f"import:{import_id}"
