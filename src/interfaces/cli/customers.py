"""`crm customers import FILE` and `crm customers export > file.csv`: the bulk routes' work
from a shell, with a progress bar on stderr."""

import asyncio
import getpass
import sys
import uuid
from datetime import datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.bulk.customer_csv import CSV_MEDIA_TYPE, NDJSON_MEDIA_TYPE, export_header, export_row, read_rows
from application.bulk.export_customers import ExportCustomers
from application.bulk.import_jobs import ImportJob, ImportStatus, OnMatch
from application.bulk.submit_import import SubmitImport
from application.commands.context import CommandContext
from application.customer_filters import CustomerFilter
from application.queries.list_customers import DEFAULT_SORT
from application.queries.reader import Reader
from domain.customer.profile import CustomerSegment, CustomerStatus, CustomerType
from infrastructure.container import Container
from infrastructure.import_worker import import_runner
from infrastructure.observability.logs import configure_logging
from interfaces.cli.console import CommandFailed, RateColumn, errors, run_with_container

app = typer.Typer(help="Bulk import and CSV export of a business's customers.", no_args_is_help=True)


@app.callback()
def _logs_to_stderr() -> None:
    # stdout is the export's CSV (or the summary): logs go to stderr, warnings and worse only.
    configure_logging("WARNING")


NDJSON_SUFFIXES = (".ndjson", ".jsonl")


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("rows"),
        TimeElapsedColumn(),
        console=errors,
    )


@app.command("import")
def import_customers(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="a .csv or .ndjson file"),
    business: str = typer.Option(..., "--business", "-b"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would happen; change nothing"),
    on_match: OnMatch = typer.Option(OnMatch.SKIP, "--on-match", help="a row matching an active customer"),
) -> None:
    """Imports the file as `POST /customers/imports` does, and runs it here (a running
    `crm worker imports` may take it over; this then follows its progress)."""
    media_type = NDJSON_MEDIA_TYPE if file.suffix.lower() in NDJSON_SUFFIXES else CSV_MEDIA_TYPE

    async def run(container: Container) -> ImportJob:
        context = CommandContext(actor=_actor(), correlation_id=str(uuid.uuid4()), causation_id="cli:import")
        with file.open("rb") as stream:
            job = await container.submit_import().execute(
                SubmitImport(business_id=business, dry_run=dry_run, on_match=on_match),
                read_rows(stream, media_type),
                context,
            )
        with _progress() as progress:
            task = progress.add_task("dry run" if dry_run else "import", total=job.total)

            def show(current: ImportJob) -> None:
                progress.update(task, completed=current.processed)

            runner = import_runner(container)
            while job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
                if not await runner.run_one(business, job.id, asyncio.Event(), show):
                    await asyncio.sleep(0.5)  # a worker holds it: follow its progress
                job = await container.get_import().execute(business, job.id)
                show(job)
        return job

    job = run_with_container(run)
    typer.echo(
        f"{job.id}: {job.status.value}{' (dry run)' if job.dry_run else ''}: {job.total} rows, "
        f"{job.created} created, {job.updated} updated, {job.skipped} skipped, {job.failed} failed"
    )
    for error in job.errors[:20]:
        typer.echo(f"  row {error.row}: {error.field}: {error.message}")
    if len(job.errors) > 20:
        typer.echo(f"  ... {job.failed - 20} more")
    if job.status != ImportStatus.DONE:
        errors.print(f"[red]error:[/red] the import {job.status.value}: {job.failure or ''}")
        raise typer.Exit(1)


@app.command("export")
def export_customers(
    business: str = typer.Option(..., "--business", "-b"),
    q: str | None = typer.Option(None, help="search text"),
    type_: CustomerType | None = typer.Option(None, "--type"),
    segment: CustomerSegment | None = typer.Option(None),
    status: CustomerStatus = typer.Option(CustomerStatus.ACTIVE),
    tag: str | None = typer.Option(None),
    created_after: datetime | None = typer.Option(None),
    created_before: datetime | None = typer.Option(None),
    consent: list[str] = typer.Option([], help="a purpose currently granted; repeatable"),
    contactable: bool | None = typer.Option(None, "--contactable/--not-contactable"),
    attribute: list[str] = typer.Option([], "--attr", help="key=value; repeatable"),
    segment_id: str | None = typer.Option(None, help="a saved segment's customers"),
    sort: str = typer.Option(DEFAULT_SORT),
) -> None:
    """Writes the customers as CSV to stdout (the columns of `GET /customers/export.csv`)."""
    attributes = dict(item.split("=", 1) for item in attribute if "=" in item)
    if len(attributes) != len(attribute):
        raise typer.BadParameter("--attr takes key=value")
    customer_filter = CustomerFilter(
        q=q, type=type_, segment=segment, status=status, tag=tag, created_after=created_after,
        created_before=created_before, consent=tuple(consent), contactable=contactable, attributes=attributes,
    )  # fmt: skip

    async def run(container: Container) -> int:
        try:
            export = await container.export_customers().execute(
                ExportCustomers(business_id=business, filter=customer_filter, sort=sort, segment_id=segment_id),
                Reader(actor=_actor(), correlation_id=str(uuid.uuid4())),
            )
        except Exception as error:
            raise CommandFailed(str(error)) from None
        written = 0
        with _progress() as progress:
            task = progress.add_task("export", total=None)
            sys.stdout.write(export_header())
            async for customer in export.customers():
                sys.stdout.write(export_row(customer))
                written += 1
                progress.update(task, completed=written)
        sys.stdout.flush()
        return written

    written = run_with_container(run)
    errors.print(f"{written} customers exported")
