"""Imports and their uploaded rows, in MongoDB.

`customer_imports`: one document per import (its options, counters, cursor and the first
errors). `customer_import_rows`: the uploaded rows, one document per chunk of
`ROWS_PER_CHUNK` rows, keyed `<upload id>:<chunk number>`: a worker reads one chunk (one
read by `_id`) at a time. A finished import's rows are deleted.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from application.bulk.import_jobs import (
    MAX_KEPT_ERRORS,
    ChunkOutcome,
    ImportExists,
    ImportJob,
    ImportRow,
    ImportStatus,
    ImportStore,
)

UNFINISHED = [ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]


class CustomerImport(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    business_id: str
    status: str
    created_at: datetime

    class Settings:
        name = "customer_imports"
        indexes = [
            # The workers' poll: unfinished imports, oldest first.
            IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
        ]


class CustomerImportRows(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    upload_id: str
    number: int
    rows: list[str]

    class Settings:
        name = "customer_import_rows"
        indexes = [IndexModel([("upload_id", ASCENDING)], name="upload")]


IMPORT_DOCUMENTS: list[type[Document]] = [CustomerImport, CustomerImportRows]


class MongoImportStore(ImportStore):
    def __init__(self, database: AsyncDatabase):
        self._imports = database[CustomerImport.Settings.name]
        self._rows = database[CustomerImportRows.Settings.name]

    async def store_chunk(self, upload_id: str, number: int, rows: Sequence[ImportRow]) -> None:
        await self._rows.insert_one(
            {
                "_id": f"{upload_id}:{number}",
                "upload_id": upload_id,
                "number": number,
                # Each row as JSON text: a row's keys are the file's, and may be anything
                # (`$set`, `a.b`) that a BSON field name must not be.
                "rows": [row.model_dump_json(exclude_none=True) for row in rows],
            }
        )

    async def discard_upload(self, upload_id: str) -> None:
        await self._rows.delete_many({"upload_id": upload_id})

    async def create(self, job: ImportJob) -> None:
        try:
            await self._imports.insert_one(_document(job))
        except DuplicateKeyError:
            existing = await self._imports.find_one({"_id": job.id})
            if existing is None:
                raise
            raise ImportExists(_job(existing)) from None

    async def get(self, business_id: str, import_id: str) -> ImportJob | None:
        document = await self._imports.find_one({"_id": import_id, "business_id": business_id})
        return _job(document) if document else None

    async def unfinished(self, limit: int) -> list[ImportJob]:
        # Index status_created: reads the unfinished ones only.
        cursor = self._imports.find({"status": {"$in": UNFINISHED}}).sort("created_at", ASCENDING).limit(limit)
        return [_job(document) async for document in cursor]

    async def chunk(self, upload_id: str, number: int) -> list[ImportRow]:
        document = await self._rows.find_one({"_id": f"{upload_id}:{number}"})
        if document is None:
            return []
        return [ImportRow.model_validate_json(row) for row in document["rows"]]

    async def record_chunk(self, job: ImportJob, number: int, outcome: ChunkOutcome, now: datetime) -> bool:
        finished = number + 1 >= job.chunks
        result = await self._imports.update_one(
            {"_id": job.id, "next_chunk": number, "status": {"$in": UNFINISHED}},
            {
                "$set": {
                    "next_chunk": number + 1,
                    "status": (ImportStatus.DONE if finished else ImportStatus.RUNNING).value,
                    "updated_at": now,
                },
                "$inc": {
                    "processed": outcome.processed,
                    "created": outcome.created,
                    "updated": outcome.updated,
                    "skipped": outcome.skipped,
                    "failed": outcome.failed,
                },
                "$push": {
                    "errors": {
                        "$each": [error.model_dump() for error in outcome.errors],
                        "$slice": MAX_KEPT_ERRORS,
                    }
                },
            },
        )
        if result.modified_count and finished:
            await self.discard_upload(job.upload_id)
        return bool(result.modified_count)

    async def mark_running(self, job: ImportJob, now: datetime) -> None:
        await self._imports.update_one(
            {"_id": job.id, "status": ImportStatus.QUEUED.value},
            {"$set": {"status": ImportStatus.RUNNING.value, "updated_at": now}},
        )

    async def fail(self, job: ImportJob, reason: str, now: datetime) -> None:
        await self._imports.update_one(
            {"_id": job.id, "status": {"$in": UNFINISHED}},
            {"$set": {"status": ImportStatus.FAILED.value, "failure": reason[:500], "updated_at": now}},
        )
        await self.discard_upload(job.upload_id)


def _document(job: ImportJob) -> dict[str, Any]:
    document = job.model_dump(mode="python")
    document["_id"] = document.pop("id")
    document["status"] = job.status.value
    document["on_match"] = job.on_match.value
    document["errors"] = [error.model_dump() for error in job.errors]
    return document


def _job(document: dict[str, Any]) -> ImportJob:
    return ImportJob.model_validate({**document, "id": document["_id"]})
