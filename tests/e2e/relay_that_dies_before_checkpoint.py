"""A real relay process that dies the moment the broker has confirmed a batch, before its
checkpoint is saved: the worst moment for an outbox relay to crash."""

import asyncio
import os

from dependency_injector import providers

from infrastructure.container import Container
from infrastructure.mongo.checkpoints import MongoCheckpoints
from infrastructure.runtime import run_outbox_relay, start_storage

DIED_EXIT_CODE = 86


class DieBeforeSaving(MongoCheckpoints):
    async def save(self, name: str, position: int) -> None:
        os._exit(DIED_EXIT_CODE)


async def main() -> None:
    container = Container()
    container.checkpoints.override(providers.Singleton(DieBeforeSaving, container.database, container.clock))
    await start_storage(container)
    await run_outbox_relay(container, asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main())
