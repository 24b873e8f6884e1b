"""`crm projections list|status|rebuild|verify`."""

import typer
from rich.table import Table

from application.projections.rebuild import NoRebuildToResume, RebuildInProgress
from infrastructure.container import Container
from infrastructure.operations.projections import PROJECTIONS, ProjectionOperations
from interfaces.cli.console import CommandFailed, ProgressBar, console, progress_bar, run_with_container

app = typer.Typer(help="Status, rebuild and verification of the read models.", no_args_is_help=True)


@app.command("status")
def status() -> None:
    """Per projection: checkpoint, events behind the head, lag, apply rate, last error, version."""
    statuses = run_with_container(lambda container: _operations(container).status())
    table = Table("projection", "checkpoint", "behind", "lag", "rate", "last error", "version")
    for entry in statuses:
        version = f"{entry.built_by_version} (code {entry.code_version})"
        if entry.needs_rebuild:
            version = f"[red]needs rebuild[/red]: built by {entry.built_by_version}, code is {entry.code_version}"
        if entry.interrupted_rebuild_at is not None:
            version += f"; [yellow]interrupted rebuild at {entry.interrupted_rebuild_at}[/yellow]"
        error = f"{entry.last_error} ({entry.last_error_at:%Y-%m-%d %H:%M:%S})" if entry.last_error else "-"
        table.add_row(
            entry.name, f"{entry.position}/{entry.head}", str(entry.behind), f"{entry.lag_seconds:.1f}s",
            f"{entry.events_per_second:,.0f} ev/s", error, version,
        )
    console.print(table)


app.command("list", help="The same as status.")(status)


@app.command("rebuild")
def rebuild(
    name: str = typer.Argument(None, help=f"one of: {', '.join(PROJECTIONS)}"),
    all_: bool = typer.Option(False, "--all", help="rebuild every projection, one after the other"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted rebuild"),
    abandon: bool = typer.Option(False, "--abandon", help="drop an interrupted rebuild; the live model stays"),
) -> None:
    """Replays the event store into a new collection, catches up, swaps it in atomically."""
    names = _chosen(name, all_)
    if resume and abandon:
        raise typer.BadParameter("--resume and --abandon exclude each other")

    async def run(container: Container) -> None:
        operations = _operations(container)
        for projection in names:
            if abandon:
                dropped = await operations.abandon(projection)
                console.print(f"{projection}: " + ("interrupted rebuild dropped" if dropped else "no rebuild to abandon"))
                continue
            try:
                with progress_bar() as bar:
                    report = await operations.rebuild(projection, resume=resume, progress=ProgressBar(bar))
            except RebuildInProgress as error:
                raise CommandFailed(f"{error}; run again with --resume to continue it or --abandon to drop it") from None
            except NoRebuildToResume as error:
                raise CommandFailed(str(error)) from None
            console.print(
                f"[green]{projection} rebuilt[/green]: {report.events_replayed} events replayed"
                + (f" (resumed from {report.resumed_from})" if report.resumed_from else "")
                + f", swapped in at position {report.position}, {report.repaired_after_swap} re-applied after the swap"
            )

    run_with_container(run)


@app.command("verify")
def verify(name: str = typer.Argument(..., help=f"one of: {', '.join(PROJECTIONS)}")) -> None:
    """Rebuilds into a scratch collection and lists how it differs from the live one."""
    if name not in PROJECTIONS:
        _unknown(name)

    async def run(container: Container):
        with progress_bar() as bar:
            return await _operations(container).verify(name, progress=ProgressBar(bar))

    report = run_with_container(run)
    if not report.differences:
        console.print(f"[green]{name}: no differences[/green] ({report.compared} documents at position {report.position})")
        return
    table = Table("id", "difference", "fields")
    for difference in report.differences:
        table.add_row(difference.id, difference.kind, ", ".join(difference.fields))
    console.print(table)
    more = f" (and {report.more_differences} more)" if report.more_differences else ""
    console.print(f"[red]{name}: {len(report.differences)} differences{more}[/red] at position {report.position}")
    raise typer.Exit(1)


def _operations(container: Container) -> ProjectionOperations:
    return ProjectionOperations(container, container.settings().rebuild_batch_size)


def _chosen(name: str | None, all_: bool) -> list[str]:
    if all_ and name:
        raise typer.BadParameter("give a projection name or --all, not both")
    if all_:
        return list(PROJECTIONS)
    if not name:
        raise typer.BadParameter("give a projection name or --all")
    if name not in PROJECTIONS:
        _unknown(name)
    return [name]


def _unknown(name: str) -> None:
    raise typer.BadParameter(f"unknown projection {name!r}; choose one of {', '.join(PROJECTIONS)}")
