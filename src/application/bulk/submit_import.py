"""Submit an import: store the file's rows in chunks, then queue the job for the workers.

The rows are stored under an upload id of their own before the job exists, and the job is
created last: a job a worker can see always has all its rows. With an Idempotency-Key the
job's id comes from the key's scope, so a second request with the same key finds the
first job (the same request: its job is answered again; another request: `422`).
"""

import hashlib
import uuid
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from application.bulk.import_jobs import (
    MAX_CHUNK_CHARACTERS,
    ROWS_PER_CHUNK,
    ImportExists,
    ImportJob,
    ImportRow,
    ImportStatus,
    ImportStore,
    OnMatch,
)
from application.commands.context import CommandContext
from application.errors import IdempotencyKeyReused
from application.ports import Clock


class SubmitImport(BaseModel):
    model_config = ConfigDict(frozen=True)

    business_id: str
    dry_run: bool = False
    on_match: OnMatch = OnMatch.SKIP


class SubmitImportHandler:
    def __init__(self, imports: ImportStore, clock: Clock):
        self._imports = imports
        self._clock = clock

    async def execute(self, command: SubmitImport, rows: Iterable[ImportRow], context: CommandContext) -> ImportJob:
        """`rows` is read once, chunk by chunk; `context.request_hash` identifies the request
        (the body and the options) when an Idempotency-Key came with it."""
        scope = context.idempotency_scope(command.business_id)
        import_id = _import_id(scope)
        if scope is not None:
            existing = await self._imports.get(command.business_id, import_id)
            if existing is not None:
                return self._replayed(existing, context)
        upload_id = uuid.uuid4().hex
        try:
            total, chunks = await self._store(upload_id, rows)
        except BaseException:
            await self._imports.discard_upload(upload_id)
            raise
        now = self._clock.now()
        job = ImportJob(
            id=import_id,
            business_id=command.business_id,
            actor=context.actor,
            correlation_id=context.correlation_id,
            # A file of no customers (a header alone) is imported at once.
            status=ImportStatus.QUEUED if total else ImportStatus.DONE,
            dry_run=command.dry_run,
            on_match=command.on_match,
            total=total,
            chunks=chunks,
            upload_id=upload_id,
            idempotency_scope=scope,
            request_hash=context.request_hash if scope else None,
            created_at=now,
            updated_at=now,
        )
        try:
            await self._imports.create(job)
        except ImportExists as exists:  # a concurrent request with the same key won
            await self._imports.discard_upload(upload_id)
            return self._replayed(exists.existing, context)
        return job

    async def _store(self, upload_id: str, rows: Iterable[ImportRow]) -> tuple[int, int]:
        total, chunks, size = 0, 0, 0
        chunk: list[ImportRow] = []
        for row in rows:
            chunk.append(row)
            total += 1
            size += row.stored_size()
            if len(chunk) == ROWS_PER_CHUNK or size >= MAX_CHUNK_CHARACTERS:
                await self._imports.store_chunk(upload_id, chunks, chunk)
                chunks, chunk, size = chunks + 1, [], 0
        if chunk:
            await self._imports.store_chunk(upload_id, chunks, chunk)
            chunks += 1
        return total, chunks

    @staticmethod
    def _replayed(existing: ImportJob, context: CommandContext) -> ImportJob:
        if existing.request_hash != context.request_hash:
            raise IdempotencyKeyReused(f"Idempotency-Key {context.idempotency_key!r} was used for another import")
        return existing


def _import_id(idempotency_scope: str | None) -> str:
    if idempotency_scope is None:
        return f"imp_{uuid.uuid4().hex}"
    return f"imp_{hashlib.sha256(idempotency_scope.encode()).hexdigest()[:32]}"
