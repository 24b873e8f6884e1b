"""`crm projections list|status|rebuild|verify`."""

from enum import StrEnum

import typer
from rich.table import Table

from application.projections.rebuild import NoRebuildToResume, RebuildInProgress
from infrastructure.container import Container
from infrastructure.operations.projections import ProjectionOperations
from infrastructure.projection_registry import PROJECTIONS
from interfaces.cli.console import CommandFailed, ProgressBar, console, print_json, progress_bar, run_with_container

# The projections' names as a command-line choice (typer lists them in --help).
ProjectionName = StrEnum("ProjectionName", {name: name for name in PROJECTIONS})
JSON_OUTPUT = typer.Option(False, "--json", help="print JSON instead of a table")

app = typer.Typer(help="Status, rebuild and verification of the read models.", no_args_is_help=True)


@app.command("status")
def status(as_json: bool = JSON_OUTPUT) -> None:
    """Per projection: events behind the businesses' logs, lag, apply rate, last error, version."""
    statuses = run_with_container(lambda container: _operations(container).status())
    if as_json:
        print_json(statuses)
        return
    table = Table("projection", "behind", "businesses behind", "lag", "rate", "last error", "version")
    for entry in statuses:
        version = f"{entry.built_by_version} (code {entry.code_version})"
        if entry.needs_rebuild:
            version = f"[red]needs rebuild[/red]: built by {entry.built_by_version}, code is {entry.code_version}"
        if entry.interrupted_rebuild:
            version += "; [yellow]interrupted rebuild[/yellow]"
        if entry.retired_generations:
            version += f"; old generation {', '.join(map(str, entry.retired_generations))} to drop"
        error = f"{entry.last_error} ({entry.last_error_at:%Y-%m-%d %H:%M:%S})" if entry.last_error else "-"
        table.add_row(
            entry.name,
            str(entry.behind),
            str(entry.businesses_behind),
            f"{entry.lag_seconds:.1f}s",
            f"{entry.events_per_second:,.0f} ev/s",
            error,
            version,
        )
    console.print(table)


app.command("list", help="The same as status.")(status)


@app.command("rebuild")
def rebuild(
    name: ProjectionName | None = typer.Argument(None, help="the projection to rebuild"),
    all_: bool = typer.Option(False, "--all", help="rebuild every projection, one after the other"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted rebuild"),
    abandon: bool = typer.Option(False, "--abandon", help="drop an interrupted rebuild; the live model stays"),
) -> None:
    """Replays the event store into the read model's next generation, catches up beside the
    projectors, then switches readers to it; the projectors drop the old generation in the
    background (`status` shows it until then)."""
    names = _chosen(name, all_)
    if resume and abandon:
        raise typer.BadParameter("--resume and --abandon exclude each other")

    async def run(container: Container) -> None:
        operations = _operations(container)
        for projection in names:
            if abandon:
                dropped = await operations.abandon(projection)
                console.print(
                    f"{projection}: " + ("interrupted rebuild dropped" if dropped else "no rebuild to abandon")
                )
                continue
            try:
                with progress_bar() as bar:
                    report = await operations.rebuild(projection, resume=resume, progress=ProgressBar(bar))
            except RebuildInProgress as error:
                raise CommandFailed(
                    f"{error}; run again with --resume to continue it or --abandon to drop it"
                ) from None
            except NoRebuildToResume as error:
                raise CommandFailed(str(error)) from None
            console.print(
                f"[green]{projection} rebuilt[/green]: {report.events_replayed} events of "
                f"{report.businesses} businesses replayed"
                + (" (resumed)" if report.resumed else "")
                + f", {report.caught_up_after_dual_writes} caught up beside the projectors"
            )

    run_with_container(run)


@app.command("verify")
def verify(
    projection: ProjectionName = typer.Argument(..., metavar="NAME", help="the projection to verify"),
    as_json: bool = JSON_OUTPUT,
) -> None:
    """Rebuilds into a scratch collection and lists how it differs from the live one."""
    name = projection.value

    async def run(container: Container):
        if as_json:
            return await _operations(container).verify(name)
        with progress_bar() as bar:
            return await _operations(container).verify(name, progress=ProgressBar(bar))

    report = run_with_container(run)
    if as_json:
        print_json(report)
        raise typer.Exit(1 if report.differences else 0)
    if not report.differences:
        console.print(f"[green]{name}: no differences[/green] ({report.compared} documents compared)")
        return
    table = Table("id", "difference", "fields")
    for difference in report.differences:
        table.add_row(difference.id, difference.kind, ", ".join(difference.fields))
    console.print(table)
    more = f" (and {report.more_differences} more)" if report.more_differences else ""
    console.print(f"[red]{name}: {len(report.differences)} differences{more}[/red]")
    raise typer.Exit(1)


def _operations(container: Container) -> ProjectionOperations:
    return ProjectionOperations(container, container.settings().rebuild_batch_size)


def _chosen(name: ProjectionName | None, all_: bool) -> list[str]:
    if all_ and name:
        raise typer.BadParameter("give a projection name or --all, not both")
    if all_:
        return list(PROJECTIONS)
    if not name:
        raise typer.BadParameter("give a projection name or --all")
    return [name.value]
