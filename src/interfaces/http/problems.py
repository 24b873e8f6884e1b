"""Maps every error to an RFC 9457 problem document, in one place."""

from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure, DocumentTooLarge, OperationFailure, PyMongoError

from application.bulk.import_jobs import ImportNotFound, InvalidImportFile
from application.errors import (
    ContactAlreadyTaken,
    CustomerNotFound,
    IdempotencyKeyReused,
    IdempotencyKeyTaken,
    InvalidCursor,
    InvalidReference,
    PositionNotFound,
    ProjectionBehind,
    ReadModelBehind,
    SegmentNameTaken,
    SegmentNotFound,
    StaleVersion,
    TooManySegments,
    VersionConflict,
    VersionNotFound,
)
from domain.customer.size_budget import CustomerTooLarge
from domain.errors import CustomerNotActive, HasOpenOrders, InvalidCustomerData, InvalidMerge, SegmentGone

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://crm.example/problems/"

log = structlog.get_logger(__name__)


def problem(
    status: int, slug: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation(_: Request, error: ValidationException) -> Response:
    errors = [
        {"field": str(item.get("key") or item.get("source") or "body"), "message": str(item.get("message"))}
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict)
    ]
    if not errors:
        return problem(400, "bad-request", "Bad request", error.detail)
    return problem(422, "validation", "Invalid input", "some fields are invalid", errors=errors)


def _http(_: Request, error: HTTPException) -> Response:
    slug = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}.get(
        error.status_code, "http-error"
    )
    headers = dict(error.headers or {})
    if error.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem(error.status_code, slug, _title(error.status_code), error.detail, headers=headers)


def _invalid_customer(_: Request, error: InvalidCustomerData) -> Response:
    return problem(
        422,
        "validation",
        "Invalid customer data",
        str(error),
        errors=[{"field": item.field, "message": item.message} for item in error.errors],
    )


def _not_found(_: Request, error: CustomerNotFound) -> Response:
    return problem(404, "not-found", "Not found", "customer not found")


def _version_conflict(_: Request, error: VersionConflict) -> Response:
    return problem(409, "version-conflict", "Conflict", "the customer was changed concurrently; retry")


def _invalid_field(field: str, message: str, detail: str) -> Response:
    return problem(422, "validation", "Invalid input", detail, errors=[{"field": field, "message": message}])


def _not_caught_up(detail: str, **where: int) -> Response:
    """The read model has not reached what the reader waits for: a transient 503."""
    return problem(503, "read-model-behind", "Not caught up yet", detail, headers={"Retry-After": "1"}, **where)


def _read_model_behind(_: Request, error: ReadModelBehind) -> Response:
    return _not_caught_up(str(error), current_version=error.current_version)


def _version_not_found(_: Request, error: VersionNotFound) -> Response:
    return _invalid_field("min_version", f"the customer's latest version is {error.stream_version}", str(error))


def _segment_not_found(_: Request, error: SegmentNotFound) -> Response:
    return problem(404, "not-found", "Not found", "segment not found")


def _segment_name_taken(_: Request, error: SegmentNameTaken) -> Response:
    return problem(
        409,
        "duplicate-segment-name",
        "Segment name taken",
        f"another segment of this business is named {error.name!r}",
        existing_segment_id=error.existing_segment_id,
        errors=[{"field": "name", "message": "already the name of another segment"}],
    )


def _too_many_segments(_: Request, error: TooManySegments) -> Response:
    return problem(409, "too-many-segments", "Too many segments", str(error))


def _segment_gone(_: Request, error: SegmentGone) -> Response:
    return problem(404, "not-found", "Not found", "segment not found")


def _contact_taken(_: Request, error: ContactAlreadyTaken) -> Response:
    return problem(
        409,
        "duplicate-contact",
        "Contact already taken",
        f"an active customer of this business already has this {error.kind}",
        existing_customer_id=error.existing_customer_id,
        errors=[{"field": error.kind, "message": "already belongs to another customer"}],
    )


def _stale_version(_: Request, error: StaleVersion) -> Response:
    return problem(
        412,
        "stale-version",
        "Precondition failed",
        str(error),
        headers={"ETag": f'"{error.current_version}"'},
        current_version=error.current_version,
    )


def _not_active(_: Request, error: CustomerNotActive) -> Response:
    return problem(409, "customer-not-active", "Conflict", str(error), status_of_customer=error.status)


def _open_orders(_: Request, error: HasOpenOrders) -> Response:
    return problem(409, "open-orders", "Conflict", str(error), open_orders=error.open_orders)


def _idempotency_reused(_: Request, error: IdempotencyKeyReused) -> Response:
    return problem(422, "idempotency-key-reused", "Idempotency-Key reused", str(error))


def _idempotency_taken(_: Request, error: IdempotencyKeyTaken) -> Response:
    return problem(409, "idempotency-key-in-use", "Conflict", "a request with this Idempotency-Key is in flight")


def _invalid_reference(_: Request, error: InvalidReference) -> Response:
    return _invalid_field(error.field, "no such customer in this business", str(error))


def _too_large(_: Request, error: CustomerTooLarge) -> Response:
    return problem(
        409, "customer-too-large", "Conflict", str(error), size_bytes=error.size_bytes, budget_bytes=error.budget_bytes
    )


def _document_too_large(_: Request, error: DocumentTooLarge) -> Response:
    # The byte budget keeps customers far from MongoDB's limit; should a document pass it
    # anyway, the client hears that its change is too big, not that the server failed.
    return problem(409, "customer-too-large", "Conflict", "the change would make a stored document too large")


def _invalid_merge(_: Request, error: InvalidMerge) -> Response:
    return _invalid_field("source_customer_id", str(error), str(error))


def _pydantic(_: Request, error: ValidationError) -> Response:
    """A value object refused a value deeper than the request schema checks."""
    errors = [
        {"field": ".".join(str(part) for part in item["loc"]) or "body", "message": item["msg"]}
        for item in error.errors()
    ]
    return problem(422, "validation", "Invalid input", "some fields are invalid", errors=errors)


def _projection_behind(_: Request, error: ProjectionBehind) -> Response:
    return _not_caught_up(str(error), current_position=error.current_position)


def _position_not_found(_: Request, error: PositionNotFound) -> Response:
    return _invalid_field("min_position", f"the newest event is at position {error.head_position}", str(error))


def _invalid_cursor(_: Request, error: InvalidCursor) -> Response:
    return problem(400, "bad-cursor", "Bad cursor", error.reason, errors=[{"field": "cursor", "message": error.reason}])


def _import_not_found(_: Request, error: ImportNotFound) -> Response:
    return problem(404, "not-found", "Not found", "import not found")


def _invalid_import_file(_: Request, error: InvalidImportFile) -> Response:
    return _invalid_field(error.field, str(error), f"the file cannot be imported: {error}")


def _database(request: Request, error: PyMongoError) -> Response:
    """The database is away, or a write kept conflicting: transient, so a 503 to retry.

    A writer killed inside its append transaction holds its business's log head until the
    server aborts it (after `TRANSACTION_SECONDS`, as our servers are set up): appends wait."""
    transient = isinstance(error, ConnectionFailure) or (
        isinstance(error, OperationFailure) and error.has_error_label("TransientTransactionError")
    )
    if not transient:
        return _unexpected(request, error)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    return problem(
        503,
        "unavailable",
        "Service unavailable",
        "the database is unavailable or busy; retry",
        headers={"Retry-After": "2"},
    )


def _too_deep(_: Request, error: RecursionError) -> Response:
    # Only a request body nests deep enough for this: the JSON decoder recurses per level.
    return problem(400, "bad-request", "Bad request", "the JSON body is nested too deeply")


def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "Internal error", "an unexpected error occurred")


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS = {
    ValidationException: _validation,
    HTTPException: _http,
    InvalidCustomerData: _invalid_customer,
    CustomerNotFound: _not_found,
    VersionConflict: _version_conflict,
    ReadModelBehind: _read_model_behind,
    VersionNotFound: _version_not_found,
    ContactAlreadyTaken: _contact_taken,
    StaleVersion: _stale_version,
    CustomerNotActive: _not_active,
    HasOpenOrders: _open_orders,
    IdempotencyKeyReused: _idempotency_reused,
    IdempotencyKeyTaken: _idempotency_taken,
    InvalidReference: _invalid_reference,
    InvalidMerge: _invalid_merge,
    CustomerTooLarge: _too_large,
    DocumentTooLarge: _document_too_large,
    ValidationError: _pydantic,
    ProjectionBehind: _projection_behind,
    PositionNotFound: _position_not_found,
    InvalidCursor: _invalid_cursor,
    SegmentNotFound: _segment_not_found,
    SegmentNameTaken: _segment_name_taken,
    TooManySegments: _too_many_segments,
    SegmentGone: _segment_gone,
    ImportNotFound: _import_not_found,
    InvalidImportFile: _invalid_import_file,
    PyMongoError: _database,
    RecursionError: _too_deep,
    Exception: _unexpected,
}


class FieldProblem(BaseModel):
    field: str
    message: str


class ProblemDocument(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    existing_customer_id: str | None = None
    current_version: int | None = None


_DESCRIPTIONS = {
    400: "Malformed request (JSON, header or cursor)",
    401: "Missing, malformed, expired or badly signed token",
    403: "Role too low",
    404: "Business not in the token, or no such customer",
    409: "Conflict: contact taken (`existing_customer_id`), customer not active, open orders",
    412: "Stale `If-Match`",
    413: "Body over 64 KB",
    422: "Invalid input, with the fields in `errors`",
    429: "Rate limit reached; see `Retry-After`",
    503: "The database is unavailable or busy, or the read model has not caught up within the wait; retry",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ProblemDocument, description=_DESCRIPTIONS[status], media_type=PROBLEM_MEDIA_TYPE
        )
        for status in statuses
    }


# 503 everywhere: the database may be away (reads and writes answer it, to be retried).
READ = problem_responses(400, 401, 403, 404, 422, 429, 503)
READ_WITH_WAIT = READ
COMMAND = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)
CONDITIONAL_COMMAND = problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 429, 503)
# A 204 has no body, so no media type either.
NO_CONTENT = ResponseSpec(data_container=None, description="Done; the new version is in `ETag`", media_type="")
