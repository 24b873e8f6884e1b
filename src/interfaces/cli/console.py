"""What every ops command shares: a container for one command, clean errors, progress bars."""

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
import uvloop
from pydantic import BaseModel, ValidationError
from pymongo.errors import PyMongoError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from application.projections.rebuild import RebuildProgress
from infrastructure.container import Container
from infrastructure.known_secrets import refuse_known_secrets
from infrastructure.runtime import start_storage, stop_storage

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


class CommandFailed(Exception):
    """A failure to report in one line, with a non-zero exit."""


def run_with_container(operation: Callable[[Container], Awaitable[T]], database: bool = True) -> T:
    """Runs one ops operation against the configured servers; any failure is one line on
    stderr and exit status 1, never a traceback."""

    # The AMQP client logs its connection failures itself; here the failure is reported once.
    for client_logger in ("aio_pika", "aiormq"):
        logging.getLogger(client_logger).setLevel(logging.CRITICAL)

    async def main() -> T:
        container = Container()
        refuse_known_secrets(container.settings())
        if database:
            await start_storage(container)
        try:
            return await operation(container)
        finally:
            if database:
                await stop_storage(container)

    try:
        return uvloop.run(main())
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/yellow]")
    except Exception as error:  # any failure: one line, never a traceback
        report_error(error)
    raise typer.Exit(1)


def one_line(error: BaseException) -> str:
    """What went wrong, in one line an operator can act on."""
    if isinstance(error, ValidationError) and error.title == "Settings":
        # Settings come from CRM_* variables: name the variable, not the field.
        problems = [f"CRM_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
        return "invalid settings: " + "; ".join(problems)
    if isinstance(error, CommandFailed | ValueError) and not isinstance(error, ValidationError):
        return str(error)
    if isinstance(error, PyMongoError):
        return f"MongoDB: {type(error).__name__}: {str(error).split(' (configured')[0][:300]}"
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def report_error(error: BaseException) -> None:
    errors.print(f"[red]error:[/red] {escape(one_line(error))}", highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    """`--json` output: pydantic models, dataclasses, lists of them, and plain values."""
    typer.echo(json.dumps(_plain(value), indent=2, default=str))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain = dataclasses.asdict(value)
        # Properties a status shows (needs_rebuild, ...) belong in its JSON too.
        for name, attribute in vars(type(value)).items():
            if isinstance(attribute, property):
                plain[name] = getattr(value, name)
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class ProgressBar(RebuildProgress):
    """A rich progress bar: events replayed, rate and ETA, one task per phase."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._task: int | None = None
        self._started_at = 0

    def phase(self, name: str, done: int, total: int) -> None:
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._started_at = done
        self._task = self._progress.add_task(name, total=max(0, total - done))

    def advanced(self, done: int, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=done - self._started_at, total=max(0, total - self._started_at))


def progress_bar(unit: str = "ev") -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )


class RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self._unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self._unit}/s" if speed else f"- {self._unit}/s", style="cyan")
