"""`crm outbox status`."""

import typer

from infrastructure.container import Container
from infrastructure.operations.log_lag import lag_of
from application.outbox_relay import RELAY_CHECKPOINT
from interfaces.cli.console import console, run_with_container

app = typer.Typer(help="The outbox: events committed but not yet published.", no_args_is_help=True)


@app.command("status")
def status() -> None:
    """Pending events and the age of the oldest one not yet published."""

    async def run(container: Container):
        return await lag_of(container.database(), RELAY_CHECKPOINT), container.clock().now()

    lag, now = run_with_container(run)
    console.print(f"published up to position {lag.position} of {lag.head}")
    console.print(f"pending: {lag.events} events; oldest unpublished: {lag.seconds(now):.1f}s old"
                  if lag.events else "pending: 0 events")
