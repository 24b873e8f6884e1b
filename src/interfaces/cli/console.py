"""What every ops command shares: a container for one command, clean errors, progress bars."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pymongo.errors import PyMongoError
from rich.console import Console
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
from infrastructure.runtime import start_storage, stop_storage

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


class CommandFailed(Exception):
    """A failure to report in one line, with a non-zero exit."""


def run_with_container(operation: Callable[[Container], Awaitable[T]], database: bool = True) -> T:
    """Runs one ops operation against the configured servers; any failure is one line on
    stderr and exit status 1, never a traceback."""

    async def main() -> T:
        container = Container()
        if database:
            await start_storage(container)
        try:
            return await operation(container)
        finally:
            if database:
                await stop_storage(container)

    try:
        return asyncio.run(main())
    except (CommandFailed, ValueError) as error:
        errors.print(f"[red]error:[/red] {error}")
    except PyMongoError as error:
        errors.print(f"[red]error:[/red] MongoDB: {type(error).__name__}: {str(error).split(' (configured')[0][:300]}")
    except (OSError, ConnectionError) as error:
        errors.print(f"[red]error:[/red] {type(error).__name__}: {error}")
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/yellow]")
    except Exception as error:  # the last resort: still one line, never a traceback
        errors.print(f"[red]error:[/red] {type(error).__name__}: {error}")
    raise typer.Exit(1)


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
