"""What routes read from the request besides its body: who and which conversation (the
command context, or the reader of a query), `Idempotency-Key`, and `If-Match`."""

import hashlib
import json
import re
import uuid

from litestar import Request
from litestar.exceptions import ClientException

from application.commands.context import CommandContext
from application.queries.reader import Reader
from infrastructure.observability.tracing import current_traceparent
from interfaces.http.correlation import correlation_id_of

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
IF_MATCH_PATTERN = re.compile(r'^(?:W/)?"?(\d{1,10})"?$')


async def command_context(request: Request) -> CommandContext:
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY_PATTERN.match(key):
        raise ClientException("Idempotency-Key must be 1 to 255 visible ASCII characters")
    return CommandContext(
        actor=request.user.user_id,
        correlation_id=correlation_id_of(request.scope),
        causation_id=f"http:{uuid.uuid4()}",
        traceparent=current_traceparent(),
        idempotency_key=key,
        request_hash=await _request_hash(request) if key else None,
    )


def reader(request: Request) -> Reader:
    return Reader(actor=request.user.user_id, correlation_id=correlation_id_of(request.scope))


def expected_version(request: Request) -> int | None:
    """The version named by `If-Match: "<version>"`, if any (`*` names none)."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = IF_MATCH_PATTERN.match(header.strip())
    if match is None:
        raise ClientException('If-Match must be a version in quotes, e.g. If-Match: "3"')
    return int(match.group(1))


async def _request_hash(request: Request) -> str:
    """Same method, path and JSON body (whatever its spacing or key order): same hash."""
    body = await request.body()
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), canonical])).hexdigest()
