"""Per request: Prometheus metrics by route and one JSON log line, both carrying the
correlation id (bound in structlog's context for every line logged meanwhile). The span is
Litestar's OpenTelemetry plugin's; this names it after the route and adds the id."""

import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import get_current_span

from infrastructure.observability.metrics import COMMAND_OUTCOMES, HTTP_LATENCY, HTTP_REQUESTS
from interfaces.http.correlation import correlation_id_of

log = structlog.get_logger(__name__)
COMMAND_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def command_outcome(status: int) -> str:
    if status < 400:
        return "ok"
    if status in (409, 412):
        return "conflict"
    if status == 404:
        return "not_found"
    if status in (401, 403, 429):
        return "denied"
    if status < 500:
        return "rejected"
    return "error"


def request_observability_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        method = scope["method"]
        route = scope.get("path_template") or "unmatched"
        correlation_id = correlation_id_of(scope)
        status = 500
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        span = get_current_span()
        # The plugin named the span after the path; the route keeps the names few.
        span.update_name(f"{method} {route}")
        span.set_attributes({"http.route": route, "crm.correlation_id": correlation_id})
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await app(scope, receive, send_recording_status)
            finally:
                elapsed = time.perf_counter() - started
                HTTP_REQUESTS.labels(method, route, str(status)).inc()
                HTTP_LATENCY.labels(method, route).observe(elapsed)
                if method in COMMAND_METHODS:
                    handler = scope.get("route_handler")
                    command = getattr(handler, "operation_id", None) or route
                    COMMAND_OUTCOMES.labels(
                        command if isinstance(command, str) else route, command_outcome(status)
                    ).inc()
                log.info(
                    "request handled",
                    method=method,
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                )

    return middleware
