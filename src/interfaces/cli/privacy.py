"""`crm retention`, `crm audit` and `crm keys`: the privacy operations."""

import json

import typer

from application.commands.erase_expired_customers import EraseExpiredCustomers
from infrastructure.container import Container
from interfaces.cli.console import run_with_container

retention = typer.Typer(help="Erase customers soft-deleted for longer than the retention period.", no_args_is_help=True)
audit = typer.Typer(help="Who read or exported customers' personal data.", no_args_is_help=True)
keys = typer.Typer(help="The master keys that wrap the customers' data keys.", no_args_is_help=True)


@retention.command("run")
def retention_run(
    days: int | None = typer.Option(None, min=1, help="default: CRM_RETENTION_DAYS"),
    dry_run: bool = typer.Option(False, "--dry-run", help="list who would be erased, erase no one"),
) -> None:
    """Erase every customer deleted more than DAYS ago, and report what was done."""

    async def work(container: Container):
        retention_days = days or container.settings().retention_days
        typer.echo(
            f"retention: erasing customers deleted more than {retention_days} days ago"
            + (" (dry run)" if dry_run else ""),
            err=True,
        )

        def progress(done: int) -> None:
            typer.echo(f"  {done} done", err=True)

        return await container.erase_expired_customers().execute(
            EraseExpiredCustomers(retention_days=retention_days, dry_run=dry_run), on_progress=progress
        )

    report = run_with_container(work)
    typer.echo(report.model_dump_json(indent=2))
    typer.echo(
        f"retention: {len(report.erased)} erased, {len(report.would_erase)} would be, {len(report.failed)} failed",
        err=True,
    )
    if report.failed:
        raise typer.Exit(1)


@audit.command("show")
def audit_show(
    business: str = typer.Option(..., "--business", "-b"),
    customer: str | None = typer.Option(None, "--customer", "-c"),
    limit: int = typer.Option(100, min=1, max=10_000),
) -> None:
    """Print the access log (newest first) as JSON lines."""

    async def work(container: Container):
        return await container.access_log().about(business, customer, limit)

    for record in run_with_container(work):
        typer.echo(json.dumps(record.model_dump(mode="json")))


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key with the active master key (CRM_ACTIVE_MASTER_KEY)."""

    async def work(container: Container) -> int:
        def progress(done: int, total: int) -> None:
            if done % 500 == 0 or done == total:
                typer.echo(f"  {done}/{total} re-wrapped", err=True)

        return await container.keyring().rotate(progress)

    rotated = run_with_container(work)
    typer.echo(f"keys: {rotated} data keys re-wrapped with the active master key")
