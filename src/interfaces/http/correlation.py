"""One correlation id per conversation: taken from `X-Correlation-ID` or made here."""

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CORRELATION_HEADER = "x-correlation-id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def correlation_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if "correlation_id" not in state:
        given = dict(scope.get("headers", [])).get(CORRELATION_HEADER.encode(), b"").decode("latin-1")
        state["correlation_id"] = given if _VALID.match(given) else str(uuid.uuid4())
    return state["correlation_id"]


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    """Echoes the correlation id on every response."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        correlation_id = correlation_id_of(scope)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[CORRELATION_HEADER] = correlation_id
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware
