"""`crm outbox status`."""

import typer

from infrastructure.container import Container
from infrastructure.operations.log_lag import relay_lag
from interfaces.cli.console import console, print_json, run_with_container

app = typer.Typer(help="The outbox: events committed but not yet published.", no_args_is_help=True)


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Pending events and the age of the oldest one not yet published."""

    async def run(container: Container):
        return await relay_lag(container.database()), container.clock().now()

    lag, now = run_with_container(run)
    if as_json:
        print_json(
            {
                "businesses_behind": lag.businesses_behind,
                "pending_events": lag.events,
                "oldest_age_seconds": lag.seconds(now),
            }
        )
        return
    console.print(f"businesses with unpublished events: {lag.businesses_behind}")
    console.print(
        f"pending: {lag.events} events; oldest unpublished: {lag.seconds(now):.1f}s old"
        if lag.events
        else "pending: 0 events"
    )
