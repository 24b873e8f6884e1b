"""Telling a real cancellation from one that only looks like it.

aiormq cancels the futures of a connection whose reader exited (RabbitMQ closing it with
541 when a consume races a quorum queue's declaration, or a broker restart): the code
awaiting them gets a CancelledError that nobody asked its task for. Treated as a stop,
it silently ended a consumer (a CI run's workers never got ready; a chaos run's
projection stayed behind for good)."""

import asyncio


def asked_to_stop() -> bool:
    """Whether the running task has been asked to cancel (`Task.cancel`)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
