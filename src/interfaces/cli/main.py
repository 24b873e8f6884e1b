"""The `crm` command: the service's processes and, in later issues, the ops commands."""

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable

import jwt
from prometheus_client import start_http_server
import typer
import uvicorn

from infrastructure.container import Container
from infrastructure.observability.logs import configure_logging
from infrastructure.observability.tracing import configure_tracing
from infrastructure.runtime import run_integration, run_outbox_relay, run_projectors, start_storage, stop_storage
from infrastructure.settings import Settings
from interfaces.cli import dead_letters, outbox, projections
from interfaces.cli.privacy import audit, keys, retention

app = typer.Typer(help="crm: the customer service.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(projections.app, name="projections")
app.add_typer(dead_letters.app, name="dlq")
app.add_typer(outbox.app, name="outbox")
app.add_typer(retention, name="retention")
app.add_typer(audit, name="audit")
app.add_typer(keys, name="keys")

WORKERS: dict[str, Callable[[Container, asyncio.Event], Awaitable[None]]] = {
    "relay": run_outbox_relay,
    "projector": run_projectors,
    "integration": run_integration,
}


@app.command()
def api(host: str | None = None, port: int | None = None) -> None:
    """Serve the HTTP API."""
    settings = Settings()
    _observe(settings, "crm-api")
    uvicorn.run(
        "interfaces.http.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
        # Logging is ours (JSON, see infrastructure/observability/logs.py), not uvicorn's.
        log_config=None,
    )


@app.command()
def worker(name: str = typer.Argument(..., help=f"one of: {', '.join(WORKERS)}")) -> None:
    """Run one worker until SIGINT or SIGTERM."""
    if name not in WORKERS:
        raise typer.BadParameter(f"unknown worker {name!r}; choose one of {', '.join(WORKERS)}")
    settings = Settings()
    _observe(settings, f"crm-{name}")
    if settings.metrics_port:
        # Each worker process serves its own counters; the API computes the shared gauges.
        start_http_server(settings.metrics_port)
    asyncio.run(_run_worker(WORKERS[name]))


def _observe(settings: Settings, service_name: str) -> None:
    configure_logging(settings.log_level)
    configure_tracing(settings.otel_exporter, service_name)


async def _run_worker(run: Callable[[Container, asyncio.Event], Awaitable[None]]) -> None:
    container = Container()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await start_storage(container)
    try:
        await run(container, stop)
    finally:
        await stop_storage(container)


@app.command()
def token(
    business: list[str] = typer.Option(..., "--business", "-b", help="a business id the token may act for"),
    role: list[str] = typer.Option(["staff"], "--role", "-r"),
    subject: str = typer.Option("dev-user", "--sub"),
    hours: float = typer.Option(12.0, help="lifetime"),
) -> None:
    """Print a signed JWT for trying the API (signed with CRM_JWT_SECRET)."""
    settings = Settings()
    claims = {
        "sub": subject,
        "business_ids": business,
        "roles": role,
        "exp": int(time.time() + hours * 3600),
    }
    typer.echo(jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm))


@app.command("events-catalogue")
def events_catalogue() -> None:
    """Print the AsyncAPI document of the published events (docs/asyncapi.json is this output)."""
    import json

    from infrastructure.event_catalogue import event_catalogue

    typer.echo(json.dumps(event_catalogue(), indent=2, sort_keys=False))


@app.command()
def run() -> None:
    """Start everything for development: embedded MongoDB (unless CRM_MONGODB_URL is set), API, workers."""
    from interfaces.cli.supervisor import supervise

    raise typer.Exit(supervise())


if __name__ == "__main__":
    app()
