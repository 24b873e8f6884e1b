"""A bulk import of customers: what it is, how far it got, and the port that keeps it.

An import is a job, not an aggregate: its rows become customers through the ordinary
command path (`CustomerChanges`), each row's effect committed with a processed-message id
that names the row and its outcome (`row_outcome_id`). The job itself only keeps the rows
(in chunks, as uploaded), a cursor (the next chunk to process) and the counters. A worker
that dies mid-chunk leaves the cursor where it was; the next one processes that chunk
again, and every row already committed is recognised by its processed-message id, so
each row is counted once and no customer is created twice.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from application.errors import ApplicationError

# The contract's limits, per import.
MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
# Rows per stored chunk: a chunk is what a worker processes (and commits progress for) at
# once. A chunk of long rows closes earlier, well below MongoDB's 16 MB per document.
ROWS_PER_CHUNK = 500
MAX_CHUNK_CHARACTERS = 4 * 1024 * 1024
# Per-row errors kept on the job (the count of failed rows is always exact).
MAX_KEPT_ERRORS = 1000


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class OnMatch(StrEnum):
    """What a row whose email or phone belongs to an active customer does to that customer."""

    SKIP = "skip"
    UPDATE = "update"


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int
    field: str
    message: str


class ImportRow(BaseModel):
    """One customer record of the file: its number (1 is the first record, a CSV header is
    not counted) and its fields, or why it could not be read at all."""

    model_config = ConfigDict(frozen=True)

    row: int
    fields: dict[str, Any] | None = None
    error: RowError | None = None

    def stored_size(self) -> int:
        """About how much room the row takes where it is stored."""
        return 64 + sum(len(str(key)) + len(str(value)) for key, value in (self.fields or {}).items())


class RowOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"


class ChunkOutcome(BaseModel):
    """What one chunk's rows did."""

    model_config = ConfigDict(frozen=True)

    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: tuple[RowError, ...] = ()

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.skipped + self.failed


class ImportJob(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    business_id: str
    actor: str
    correlation_id: str
    status: ImportStatus
    dry_run: bool
    on_match: OnMatch
    total: int
    chunks: int
    # The chunk to process next: every chunk before it is counted below.
    next_chunk: int = 0
    # Where the rows are stored (an upload of its own, so that two concurrent requests with
    # one Idempotency-Key never mix their rows).
    upload_id: str
    processed: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: tuple[RowError, ...] = ()
    # The scope of the client's Idempotency-Key and the hash of its request, when it sent one.
    idempotency_scope: str | None = None
    request_hash: str | None = None
    failure: str | None = None
    created_at: datetime
    updated_at: datetime


def row_outcome_id(import_id: str, row: int, outcome: RowOutcome) -> str:
    """The processed-message id a row's commit carries: which import, which row, what it did."""
    return f"import:{import_id}:{row}:{outcome.value}"


class ImportNotFound(ApplicationError):
    def __init__(self, import_id: str):
        self.import_id = import_id
        super().__init__(f"import {import_id} not found")


class InvalidImportFile(ApplicationError):
    """The file as a whole cannot be imported (each bad row, by contrast, is only reported)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class TooManyRows(InvalidImportFile):
    def __init__(self) -> None:
        super().__init__("body", f"an import holds at most {MAX_ROWS:,} rows")


class ImportExists(ApplicationError):
    """An import with this id exists already (the same Idempotency-Key was used before)."""

    def __init__(self, existing: ImportJob):
        self.existing = existing
        super().__init__(f"import {existing.id} exists")


class ImportStore(ABC):
    """The imports and their uploaded rows."""

    @abstractmethod
    async def store_chunk(self, upload_id: str, number: int, rows: Sequence[ImportRow]) -> None: ...

    @abstractmethod
    async def discard_upload(self, upload_id: str) -> None: ...

    @abstractmethod
    async def create(self, job: ImportJob) -> None:
        """Makes the job visible to the workers; raises `ImportExists` if its id is taken."""

    @abstractmethod
    async def get(self, business_id: str, import_id: str) -> ImportJob | None: ...

    @abstractmethod
    async def unfinished(self, limit: int) -> list[ImportJob]:
        """Queued or running imports, oldest first."""

    @abstractmethod
    async def chunk(self, upload_id: str, number: int) -> list[ImportRow]: ...

    @abstractmethod
    async def record_chunk(self, job: ImportJob, number: int, outcome: ChunkOutcome, now: datetime) -> bool:
        """Counts the chunk and moves the cursor past it (done after the last one), unless
        the cursor is no longer at `number` (another worker counted it): then False."""

    @abstractmethod
    async def mark_running(self, job: ImportJob, now: datetime) -> None:
        """Queued becomes running (a worker has taken it)."""

    @abstractmethod
    async def fail(self, job: ImportJob, reason: str, now: datetime) -> None: ...
