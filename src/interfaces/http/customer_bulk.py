"""Bulk data of a business's customers: the CSV export, and imports (CSV or NDJSON) that run
in the background. Parse, call the handler, map the result; no business rule lives here."""

import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from litestar.response import Stream
from pydantic import BaseModel

from application.bulk.customer_csv import (
    CSV_HEADER_PATTERN,
    CSV_MEDIA_TYPE,
    EXPORT_COLUMNS,
    NDJSON_FIELDS,
    NDJSON_MEDIA_TYPE,
    export_header,
    export_row,
    read_rows,
)
from application.bulk.export_customers import EXPORT_PAGE_SIZE, CustomerExport, ExportCustomers, ExportCustomersHandler
from application.bulk.get_import import GetImportHandler
from application.bulk.import_jobs import MAX_BYTES, MAX_KEPT_ERRORS, MAX_ROWS, ImportJob, OnMatch
from application.bulk.submit_import import SubmitImport, SubmitImportHandler
from application.commands.context import CommandContext
from application.customer_filters import CustomerFilter
from application.queries.reader import Reader
from interfaces.http.auth import requires_role, tenant_guard
from interfaces.http.command_context import IDEMPOTENCY_KEY_PATTERN
from interfaces.http.correlation import correlation_id_of
from interfaces.http.customer_collection import CUSTOMERS_PATH, LIST_PARAMETERS, SortOrder
from interfaces.http.dependencies import READER, from_container
from interfaces.http.problems import PROBLEM_MEDIA_TYPE, ProblemDocument, problem_responses
from interfaces.http.resource_controller import ResourceController

CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"
# What the upload is spooled to: memory up to this size, then a temporary file.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
ImportId = Annotated[str, Parameter(max_length=64)]


class ImportErrorResource(BaseModel):
    row: int
    field: str
    message: str


class SubmittedImportResource(BaseModel):
    id: str
    status: str


class ImportResource(BaseModel):
    id: str
    status: str
    dry_run: bool
    on_match: str
    total: int
    processed: int
    created: int
    updated: int
    skipped: int
    failed: int
    errors: list[ImportErrorResource]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_job(cls, job: ImportJob) -> "ImportResource":
        return cls(
            id=job.id, status=job.status.value, dry_run=job.dry_run, on_match=job.on_match.value, total=job.total,
            processed=job.processed, created=job.created, updated=job.updated, skipped=job.skipped,
            failed=job.failed, errors=[ImportErrorResource(**error.model_dump()) for error in job.errors],
            created_at=job.created_at, updated_at=job.updated_at,
        )  # fmt: skip


@dataclass
class ImportUploadOperation(Operation):
    """Documents the upload's body: the route reads it as a stream, so Litestar cannot."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"Up to {MAX_ROWS:,} customers or {MAX_BYTES // (1024 * 1024)} MB. CSV: a header row "
            f"naming some of {', '.join(EXPORT_COLUMNS)} (an export's `id`, `status`, `total_purchases` and "
            "`created_at` are ignored; `tags` separated by `;`; an empty cell gives nothing). NDJSON: one "
            f"customer object per line, with the fields of `POST /customers` ({', '.join(NDJSON_FIELDS)}).",
            content={
                CSV_MEDIA_TYPE: OpenAPIMediaType(schema=Schema(type="string", pattern=CSV_HEADER_PATTERN)),  # type: ignore[arg-type]
                NDJSON_MEDIA_TYPE: OpenAPIMediaType(schema=Schema(type="string")),  # type: ignore[arg-type]
            },
        )


class CustomerBulkController(ResourceController):
    path = CUSTOMERS_PATH
    tags = ["customers"]
    # The role on each route: OPTIONS carries the controller's guards, and answers any user
    # of the business.
    guards = [tenant_guard]
    dependencies = {**READER, **from_container("export_customers", "submit_import", "get_import")}

    @get(
        "/export.csv",
        guards=[requires_role("manager")],
        dependencies={"customer_filter": LIST_PARAMETERS["customer_filter"]},
        # Litestar adds "; charset=utf-8" to a text media type by itself.
        media_type=CSV_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=str, media_type=CSV_RESPONSE_TYPE, description="The customers, one row each"
            ),
            **problem_responses(400, 401, 403, 404, 422, 429, 503),
        },
        summary="Export customers as CSV",
        operation_id="exportCustomersCsv",
        description=f"Every filter of `GET /customers`, and `segment_id` (the segment's customers, AND the other "
        f"filters). Streams `text/csv; charset=utf-8`: a header row ({','.join(EXPORT_COLUMNS)}) and one row per "
        "customer (`tags` separated by `;`), in memory one page at a time whatever the size. Each export is one "
        "entry in the access log. Manager.",
    )
    async def export_csv(
        self,
        business_id: FromPath[str],
        customer_filter: NamedDependency[CustomerFilter],
        export_customers: NamedDependency[ExportCustomersHandler],
        reader: NamedDependency[Reader],
        sort: FromQuery[SortOrder] = "-created_at",
        segment_id: Annotated[str | None, QueryParameter(max_length=64, description="a segment's id")] = None,
        min_position: Annotated[
            int | None, QueryParameter(ge=1, le=2**62, description="a command's `X-Position`")
        ] = None,
    ) -> Stream:
        export = await export_customers.execute(
            ExportCustomers(
                business_id=business_id, filter=customer_filter, sort=sort, segment_id=segment_id,
                min_position=min_position,
            ),
            reader,
        )  # fmt: skip
        return Stream(
            _csv_lines(export),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="customers-{business_id}.csv"'},
        )

    @post(
        "/imports",
        guards=[requires_role("manager")],
        status_code=202,
        request_max_body_size=MAX_BYTES,
        operation_class=ImportUploadOperation,
        responses={
            415: ResponseSpec(
                data_container=ProblemDocument, media_type=PROBLEM_MEDIA_TYPE, description="Not CSV nor NDJSON"
            ),
            **problem_responses(400, 401, 403, 404, 409, 422, 429, 503),
            413: ResponseSpec(data_container=ProblemDocument, media_type=PROBLEM_MEDIA_TYPE, description="Over 50 MB"),
        },
        summary="Import customers (CSV or NDJSON)",
        operation_id="importCustomers",
        description="Queues an import that runs in the background (it survives a restart and resumes); follow "
        "`Location` for its progress. A row whose email or phone belongs to an active customer is that customer: "
        "`on_match=skip` (default) leaves it, `update` applies the row's non-empty fields. `dry_run=true` counts "
        "what would happen and changes nothing. Importing the same file twice creates nobody twice. Honours "
        f"`Idempotency-Key`. Over {MAX_ROWS:,} rows or a file that cannot be read as a whole (not UTF-8, no or "
        "unknown CSV columns): `422`; bad rows are reported per row. A file of no customers is done at once. "
        "Manager.",
    )
    async def submit_import(
        self,
        request: Request,
        business_id: FromPath[str],
        submit_import: NamedDependency[SubmitImportHandler],
        dry_run: FromQuery[bool] = False,
        on_match: FromQuery[OnMatch] = OnMatch.SKIP,
    ) -> Response[SubmittedImportResource]:
        media_type = _upload_media_type(request)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as spooled:
            digest = await _spool(request, spooled)
            context = _import_context(request, media_type, dry_run, on_match, digest)
            job = await submit_import.execute(
                SubmitImport(business_id=business_id, dry_run=dry_run, on_match=on_match),
                read_rows(spooled, media_type),
                context,
            )
        return Response(
            SubmittedImportResource(id=job.id, status=job.status.value),
            status_code=202,
            headers={"Location": f"{request.url.path.rstrip('/')}/{job.id}"},
        )

    @get(
        "/imports/{import_id:str}",
        guards=[requires_role("manager")],
        responses=problem_responses(400, 401, 403, 404, 422, 429, 503),
        summary="An import's progress",
        operation_id="getImport",
        description="Status (`queued`, `running`, `done`, `failed`), counts, and the errors of the failed rows "
        f"(`row` 1 is the file's first customer; the first {MAX_KEPT_ERRORS:,} errors are kept, `failed` counts "
        "them all). Manager.",
    )
    async def get_import(
        self, business_id: FromPath[str], import_id: ImportId, get_import: NamedDependency[GetImportHandler]
    ) -> ImportResource:
        return ImportResource.from_job(await get_import.execute(business_id, import_id))


async def _csv_lines(export: CustomerExport) -> AsyncIterator[str]:
    """The header, then the rows a page at a time (one write each, not one per row)."""
    lines = [export_header()]
    async for customer in export.customers():
        lines.append(export_row(customer))
        if len(lines) >= EXPORT_PAGE_SIZE:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _upload_media_type(request: Request) -> str:
    media_type = request.content_type[0].lower()
    if media_type not in (CSV_MEDIA_TYPE, NDJSON_MEDIA_TYPE):
        raise HTTPException(status_code=415, detail=f"send the customers as {CSV_MEDIA_TYPE} or {NDJSON_MEDIA_TYPE}")
    return media_type


async def _spool(request: Request, file: IO[bytes]) -> str:
    """Writes the body to the spool (413 past the route's limit); returns its SHA-256."""
    digest = hashlib.sha256()
    async for chunk in request.stream():
        digest.update(chunk)
        file.write(chunk)
    file.seek(0)
    return digest.hexdigest()


def _import_context(
    request: Request, media_type: str, dry_run: bool, on_match: OnMatch, body_digest: str
) -> CommandContext:
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ClientException("Idempotency-Key must be 1 to 255 visible ASCII characters")
    request_hash = None
    if key is not None:
        # The same file with the same options is the same request.
        parts = ["POST", request.url.path, media_type, str(dry_run), on_match.value, body_digest]
        request_hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return CommandContext(
        actor=request.user.user_id,
        correlation_id=correlation_id_of(request.scope),
        causation_id=f"http:{uuid.uuid4()}",
        idempotency_key=key,
        request_hash=request_hash,
    )
