"""The `crm` command: the service's processes (`api`, `worker`, `run`), a development token,
the events catalogue, and the operations commands (projections, dead letters, outbox,
retention, audit, keys)."""

import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from importlib.metadata import version as installed_version
from pathlib import Path

import jwt
import typer
import uvicorn
import uvloop
from prometheus_client import start_http_server

from infrastructure.container import Container
from infrastructure.import_worker import run_imports
from infrastructure.known_secrets import KnownSecrets, refuse_known_secrets
from infrastructure.observability.logs import configure_logging
from infrastructure.observability.metrics import MULTIPROCESS_DIRECTORY, WORKER_HEARTBEAT
from infrastructure.observability.tracing import configure_tracing
from infrastructure.runtime import run_integration, run_outbox_relay, run_projectors, start_storage, stop_storage
from infrastructure.settings import Settings
from interfaces.cli import customers, dead_letters, outbox, projections
from interfaces.cli.console import report_error
from interfaces.cli.privacy import audit, keys, retention

app = typer.Typer(help="crm: the customer service.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(projections.app, name="projections")
app.add_typer(customers.app, name="customers")
app.add_typer(dead_letters.app, name="dlq")
app.add_typer(outbox.app, name="outbox")
app.add_typer(retention, name="retention")
app.add_typer(audit, name="audit")
app.add_typer(keys, name="keys")


class WorkerName(StrEnum):
    relay = "relay"
    projector = "projector"
    integration = "integration"
    imports = "imports"


WORKERS: dict[WorkerName, Callable[[Container, asyncio.Event], Awaitable[None]]] = {
    WorkerName.relay: run_outbox_relay,
    WorkerName.projector: run_projectors,
    WorkerName.integration: run_integration,
    WorkerName.imports: run_imports,
}


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"crm {installed_version('crm')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """crm: the customer service."""


@app.command()
def api(
    host: str | None = None,
    port: int | None = None,
    workers: int | None = typer.Option(None, min=1, max=64, help="API processes (default CRM_API_WORKERS)"),
) -> None:
    """Serve the HTTP API, in one process or several sharing the port."""
    settings = _service_settings()
    processes = workers or settings.api_workers
    if processes > 1:
        _share_metrics_between_processes()
    _observe(settings, "crm-api")
    uvicorn.run(
        "interfaces.http.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=processes,
        log_level=settings.log_level.lower(),
        # Logging is ours (JSON, see infrastructure/observability/logs.py), not uvicorn's.
        log_config=None,
    )


def _share_metrics_between_processes() -> None:
    """Gives the API processes an empty directory for their metric files (set before any of
    them starts, so each one's prometheus_client writes there; a scrape sums them)."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY) or tempfile.mkdtemp(prefix="crm-api-metrics-")
    for leftover in Path(directory).glob("*.db"):
        leftover.unlink()  # a previous run's processes: their counts are not this run's
    os.environ[MULTIPROCESS_DIRECTORY] = directory


@app.command()
def worker(name: WorkerName = typer.Argument(..., help="the worker to run")) -> None:
    """Run one worker until SIGINT or SIGTERM."""
    settings = _service_settings()
    _observe(settings, f"crm-{name}")
    if settings.metrics_port:
        # Each worker process serves its own counters; the API computes the shared gauges.
        start_http_server(settings.metrics_port)
    # uvloop, as uvicorn runs the API: less of each batch's CPU goes to the event loop.
    uvloop.run(_run_worker(name, WORKERS[name]))


def _service_settings() -> Settings:
    """The settings of a service process, which never starts on a published secret."""
    settings = Settings()
    try:
        refuse_known_secrets(settings)
    except KnownSecrets as error:
        typer.echo(f"crm: error: {error}", err=True)
        raise typer.Exit(2) from None
    return settings


def _observe(settings: Settings, service_name: str) -> None:
    configure_logging(settings.log_level)
    configure_tracing(settings.otel_exporter, service_name)


HEARTBEAT_SECONDS = 5.0


async def _run_worker(name: WorkerName, run: Callable[[Container, asyncio.Event], Awaitable[None]]) -> None:
    container = Container()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    heartbeat = asyncio.create_task(_beat(name, stop))
    await start_storage(container)
    try:
        await run(container, stop)
    finally:
        heartbeat.cancel()
        await stop_storage(container)


async def _beat(name: WorkerName, stop: asyncio.Event) -> None:
    """Proof the worker's event loop turns, for its health check (a blocked loop stops it)."""
    while not stop.is_set():
        WORKER_HEARTBEAT.labels(name.value).set_to_current_time()
        await asyncio.sleep(HEARTBEAT_SECONDS)


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
        "iat": int(time.time()),
        "exp": int(time.time() + hours * 3600),
        **({"iss": settings.jwt_issuer} if settings.jwt_issuer else {}),
        **({"aud": settings.jwt_audience} if settings.jwt_audience else {}),
    }
    typer.echo(jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithm))


@app.command("events-catalogue")
def events_catalogue() -> None:
    """Print the AsyncAPI document of the published and consumed events (docs/asyncapi.json is this output)."""
    import json

    from infrastructure.event_catalogue import event_catalogue

    typer.echo(json.dumps(event_catalogue(), indent=2, sort_keys=False))


@app.command()
def run() -> None:
    """Start everything for development: embedded MongoDB (unless CRM_MONGODB_URL is set), API, workers."""
    from interfaces.cli.supervisor import supervise

    _service_settings()
    raise typer.Exit(supervise())


def main() -> None:
    """The `crm` command: any failure a command does not report itself is one line on
    stderr and exit status 1 (invalid CRM_* settings, a server away), never a traceback."""
    try:
        app()
    except Exception as error:
        report_error(error)
        sys.exit(1)


if __name__ == "__main__":
    main()
