"""A real relay process that dies the moment the broker has confirmed a batch, before its
progress is recorded: the worst moment for an outbox relay to crash. Its lease stays
behind it, until it expires."""

import asyncio
import os

from dependency_injector import providers

from infrastructure.container import Container
from infrastructure.mongo.coordination import MongoRelayProgress
from infrastructure.runtime import run_outbox_relay, start_storage

DIED_EXIT_CODE = 86


class DieBeforeRecording(MongoRelayProgress):
    async def record(self, lease, published) -> None:
        os._exit(DIED_EXIT_CODE)


async def main() -> None:
    container = Container()
    container.relay_progress.override(
        providers.Singleton(
            DieBeforeRecording, container.database, container.clock, container.settings.provided.log_partitions
        )
    )
    await start_storage(container)
    await run_outbox_relay(container, asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main())
