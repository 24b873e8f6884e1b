"""`crm dlq list|show|redrive|purge`: the inbound dead-letter queues."""

import json

import typer
from rich.table import Table

from infrastructure.container import Container
from infrastructure.operations.dead_letters import DeadLetterOperations
from interfaces.cli.console import console, print_json, progress_bar, run_with_container

app = typer.Typer(help="Parked messages: look at them, send them back, or drop them.", no_args_is_help=True)
QUEUE_HELP = "a projection name (customer_details) or the dead-letter queue's full name"
JSON_OUTPUT = typer.Option(False, "--json", help="print JSON")


def _operations(container: Container) -> DeadLetterOperations:
    settings = container.settings()
    return DeadLetterOperations(
        settings.rabbitmq_url, container.amqp_names(), settings.amqp_quorum_queues, settings.consumer_partitions
    )


def _checked(container: Container, queue: str) -> DeadLetterOperations:
    operations = _operations(container)
    operations.resolve(queue)  # a clear error for an unknown name, before touching the broker
    return operations


@app.command("list")
def list_queues(as_json: bool = JSON_OUTPUT) -> None:
    """Every dead-letter queue: depth, first and last failure."""
    overview = run_with_container(lambda container: _operations(container).overview(), database=False)
    if as_json:
        print_json(overview)
        return
    table = Table("dead-letter queue", "messages", "first failure", "last failure", "feeds back into")
    for queue in overview:
        table.add_row(
            queue.name,
            str(queue.depth),
            queue.oldest_failure_at or "-",
            queue.newest_failure_at or "-",
            queue.source_queue,
        )
    console.print(table)


@app.command("show")
def show(
    queue: str = typer.Argument(..., help=QUEUE_HELP),
    limit: int = typer.Option(20, min=1, max=1000, help="how many messages, oldest first"),
    as_json: bool = JSON_OUTPUT,
) -> None:
    """The parked messages: reason, first and last failure, attempts, payload. Leaves them in place."""
    letters = run_with_container(lambda container: _checked(container, queue).peek(queue, limit), database=False)
    if as_json:
        print_json(letters)
        return
    if not letters:
        console.print(f"{queue}: no parked messages")
        return
    for index, letter in enumerate(letters, start=1):
        console.rule(f"{index}. {letter.event_type or '?'}  message {letter.message_id or '?'}")
        console.print(f"reason:         {letter.reason}")
        console.print(
            f"first failure:  {letter.first_failure_at}   last failure: {letter.last_failure_at}"
            f"   attempts: {letter.attempts}"
        )
        console.print(f"correlation id: {letter.correlation_id}   source queue: {letter.source_queue}")
        payload = letter.payload
        console.print_json(json.dumps(payload)) if not isinstance(payload, str) else console.print(repr(payload))


@app.command("redrive")
def redrive(
    queue: str = typer.Argument(..., help=QUEUE_HELP),
    limit: int | None = typer.Option(None, min=1, help="at most this many, oldest first"),
) -> None:
    """Sends parked messages back through their normal consumer, in their original order."""

    async def run(container: Container) -> int:
        operations = _checked(container, queue)
        with progress_bar("msg") as bar:
            task = bar.add_task("redrive", total=None)
            return await operations.redrive(
                queue, limit, lambda moved, total: bar.update(task, completed=moved, total=total)
            )

    moved = run_with_container(run, database=False)
    console.print(
        f"[green]{moved} messages sent back[/green] to their queue" if moved else f"{queue}: nothing to redrive"
    )


@app.command("purge")
def purge(
    queue: str = typer.Argument(..., help=QUEUE_HELP),
    yes: bool = typer.Option(False, "--yes", help="do not ask"),
) -> None:
    """Drops every parked message of a queue, for good."""
    if not yes and not typer.confirm(f"Drop every message parked in {queue}?"):
        raise typer.Exit(1)
    dropped = run_with_container(lambda container: _checked(container, queue).purge(queue), database=False)
    console.print(f"{dropped} messages dropped")
