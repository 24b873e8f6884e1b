"""Gives the bench's business (biz_bench) N customers before the suite measures anything,
so that every figure is taken in a business of that size (`bench/suite.py --tenant N`).

Registering 100,000 customers over HTTP would take the better part of an hour on the
embedded server, so they are written as a restore would: each customer's registration
event straight into the event store (sealed with the service's keys, `rebuild.seed`), the
business's log head, the relay's progress at that head (published already: the relay
does not send them again), and then every read model rebuilt from the events by the
service's own code (`ProjectionOperations.rebuild`), with its progress shown, and a
checkpoint of the server (`fsync`) so that writing them out does not fall in the figures.
It runs with the service's environment, before the service's processes start:

    python bench/tenant.py 100000
"""

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from application.partitions import log_partition_of  # noqa: E402
from infrastructure.container import Container  # noqa: E402
from infrastructure.mongo.documents import RelayProgress  # noqa: E402
from infrastructure.operations.projections import ProjectionOperations  # noqa: E402
from infrastructure.projection_registry import PROJECTIONS  # noqa: E402
from infrastructure.runtime import start_storage, stop_storage  # noqa: E402
from interfaces.cli.console import ProgressBar, progress_bar  # noqa: E402
from people import people  # noqa: E402
from rebuild import seed  # noqa: E402

BUSINESS = "biz_bench"


async def give_customers(size: int) -> None:
    container = Container()
    await start_storage(container)
    try:
        started = time.perf_counter()
        head = await seed(container, size, 1, people(size))
        await container.database()[RelayProgress.Settings.name].update_one(
            {"_id": BUSINESS},
            {
                "$set": {
                    "published": head,
                    # Any lease's epoch is at least 1: the relay's next progress write matches.
                    "epoch": 0,
                    "log_partition": log_partition_of(BUSINESS, container.settings().log_partitions),
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )
        print(f"tenant: {size:,} customers' events in {time.perf_counter() - started:.0f} s", flush=True)
        for name in PROJECTIONS:
            started = time.perf_counter()
            with progress_bar() as bar:
                await ProjectionOperations(container).rebuild(name, progress=ProgressBar(bar))
            print(f"tenant: {name} built in {time.perf_counter() - started:.0f} s", flush=True)
        # The writes above leave the server's cache full of dirty pages; its next checkpoints
        # would write them out during the figures. One checkpoint now, before they start.
        started = time.perf_counter()
        await container.mongo_client().admin.command("fsync")
        print(f"tenant: checkpointed in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        await stop_storage(container)


if __name__ == "__main__":
    asyncio.run(give_customers(int(sys.argv[1])))
