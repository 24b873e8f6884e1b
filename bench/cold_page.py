"""The cold first page of a list range: the one read of the range's keys that lays its
fences, next to the bare driver reading the same keys (one `find`, keys only, the
driver's default batches), in the same run: seconds and peak Python memory
(`tracemalloc`) of each, and their ratio.

It starts its own SecantusDB and seeds two businesses as `bench/list_growth.py` does
(`biz_import` is measured), then alternates the two `--rounds` times, the fences removed
before each service read:

    .venv/bin/python bench/cold_page.py [--customers 20000] [--rounds 3]
"""

import argparse
import asyncio
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pymongo import AsyncMongoClient  # noqa: E402

from application.customer_filters import CustomerFilter  # noqa: E402
from application.ports import CustomerListCriteria  # noqa: E402
from application.projections.customer_query_fields import KEY_CEILING, SortField  # noqa: E402
from harness import RunningService  # noqa: E402
from infrastructure.mongo.customer_listing import MongoCustomerListing  # noqa: E402
from infrastructure.mongo.list_fences import _CACHES, ListFenceStore  # noqa: E402
from infrastructure.system import SystemClock  # noqa: E402
from list_growth import seed  # noqa: E402

BUSINESS = "biz_import"


async def measured(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Seconds and peak MiB of Python memory allocated while `work` ran."""
    tracemalloc.start()
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


async def run(url: str, database_name: str, rounds: int) -> list[tuple[str, list[tuple[float, float]]]]:
    client = AsyncMongoClient(url, tz_aware=True)
    database = client[database_name]
    criteria = CustomerListCriteria(BUSINESS, CustomerFilter(), SortField.LAST_NAME, False, None, 20)

    async def cold_page() -> None:
        await database["list_fences"].delete_many({})
        _CACHES.pop(database_name, None)
        listing = MongoCustomerListing(database, ListFenceStore(database, SystemClock()))
        page = await listing.page(criteria)
        assert len(page.customers) == 20

    async def bare_keys() -> None:
        keys = [
            document
            async for document in database["customer_details"].find(
                {"business_id": BUSINESS, "status": "active", "sort.last_name": {"$gte": "", "$lte": KEY_CEILING}},
                {"sort.last_name": 1},
            )
        ]
        assert keys

    service, bare = [], []
    for round_ in range(rounds):
        service.append(await measured(cold_page))
        bare.append(await measured(bare_keys))
        print(f"  round {round_ + 1}/{rounds}: service {service[-1][0]:.2f} s, bare {bare[-1][0]:.2f} s", flush=True)
    await client.close()
    return [("cold first page", service), ("bare find of the keys", bare)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000, help="customers of the measured business")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    service = RunningService(processes=[])
    service.start_database()
    try:
        print(f"seeding two businesses of {arguments.customers:,} customers", flush=True)
        asyncio.run(seed(service.mongo.url, service.database, arguments.customers))
        rows = asyncio.run(run(service.mongo.url, service.database, arguments.rounds))
    finally:
        service.stop()
    (_, ours), (_, theirs) = rows
    seconds, mib = statistics.median(s for s, _ in ours), statistics.median(m for _, m in ours)
    bare_seconds, bare_mib = statistics.median(s for s, _ in theirs), statistics.median(m for _, m in theirs)
    print(f"\n{arguments.customers:,} customers, medians of {arguments.rounds} rounds")
    print(f"cold first page        {seconds:6.2f} s  {mib:6.1f} MiB")
    print(f"bare find of the keys  {bare_seconds:6.2f} s  {bare_mib:6.1f} MiB")
    print(f"ratio                  {seconds / bare_seconds:6.2f}x  {mib / bare_mib:6.2f}x")


if __name__ == "__main__":
    main()
