"""Read-side latency at 100,000 customers in one business: the service next to a bare baseline.

Starts its own SecantusDB, seeds the read model directly (documents built by the
projection's own `view_document`, written with `insert_many`), then starts the real API
process and, beside it, a bare Litestar process with two routes: one Redis GET, and one
`find_one` by `_id` on the same collection. It times sequential requests to both and
prints p50/p95 and the ratio service/baseline for:

- GET /customers/{id} with the cache warm (baseline: the bare Redis GET route),
- GET /customers/{id} with the cache cold (baseline: the bare find_one route),
- search `q=<surname> <first-name prefix>` and the default list page (baseline: find_one).

    .venv/bin/python bench/read_side.py [--customers 100000] [--requests 200]
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BUSINESS, REDIS_URL, RunningService, bearer_token, percentile, wait_until_up  # noqa: E402
from people import FIRST_NAMES, surnames  # noqa: E402

from domain.customer.aggregate import CustomerState  # noqa: E402
from domain.customer.profile import CustomerSegment, CustomerType  # noqa: E402
from infrastructure.mongo.customer_views import view_document  # noqa: E402


async def seed(mongodb_url: str, database_name: str, customers: int) -> list[tuple[str, str, str]]:
    """Inserts the views; returns (id, first name, last name) of each."""
    from pymongo import AsyncMongoClient

    from infrastructure.mongo.client import init_documents

    client = AsyncMongoClient(mongodb_url, tz_aware=True)
    database = client[database_name]
    await init_documents(database)
    generator = random.Random(11)
    last_names = surnames(2000)
    start = datetime.now(UTC) - timedelta(days=730)
    seeded: list[tuple[str, str, str]] = []
    batch: list[dict] = []
    started = time.perf_counter()
    for index in range(customers):
        first, last = generator.choice(FIRST_NAMES), generator.choice(last_names)
        created_at = start + timedelta(seconds=index * 730 * 86400 / customers)
        created_at = created_at.replace(microsecond=created_at.microsecond // 1000 * 1000)
        customer_id = f"cus_{index:08d}"
        state = CustomerState(
            id=customer_id, business_id=BUSINESS, first_name=first, last_name=last,
            email=f"{first.lower()}.{last.lower()}{index}@example.com", phone=f"+3519{index:08d}",
            type=CustomerType.NEW, segment=CustomerSegment.WALK_IN, version=1,
            created_at=created_at, updated_at=created_at,
        )  # fmt: skip
        batch.append({"_id": customer_id, **view_document(state)})
        seeded.append((customer_id, first, last))
        if len(batch) == 2000:
            await database["customer_details"].insert_many(batch, ordered=False)
            batch = []
            if (index + 1) % 10_000 == 0:
                print(f"  seeded {index + 1}/{customers} ({time.perf_counter() - started:.0f}s)", flush=True)
    if batch:
        await database["customer_details"].insert_many(batch, ordered=False)
    await client.close()
    return seeded


async def timed(client: httpx.AsyncClient, paths: list[str], before=None) -> list[float]:
    samples = []
    for path in paths:
        if before is not None:
            await before(path)
        started = time.perf_counter()
        response = await client.get(path)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return samples


async def measure(api_url: str, baseline_url: str, seeded, requests: int, key_prefix: str) -> list[tuple]:
    import redis.asyncio as redis

    generator = random.Random(3)
    customers = f"/api/v1/businesses/{BUSINESS}/customers"
    sample = generator.sample(seeded, requests)
    cache = redis.from_url(REDIS_URL)
    async with (
        httpx.AsyncClient(base_url=api_url, headers=bearer_token("viewer"), timeout=30) as api,
        httpx.AsyncClient(base_url=baseline_url, timeout=30) as bare,
    ):
        by_id = [f"{customers}/{customer_id}" for customer_id, _, _ in sample]

        async def evict(path: str) -> None:
            await cache.delete(f"{key_prefix}customer:0:{BUSINESS}:{path.rsplit('/', 1)[1]}")

        print("  get by id, cache cold", flush=True)
        await timed(api, by_id[:20])  # warm the connections
        miss = await timed(api, by_id, before=evict)
        print("  get by id, cache warm", flush=True)
        hit = await timed(api, by_id)
        print("  search", flush=True)
        search = await timed(api, [f"{customers}?q={last} {first[:2]}" for _, first, last in sample])
        print("  list", flush=True)
        listing = await timed(api, [f"{customers}?limit=20" for _ in sample])
        print("  baselines", flush=True)
        # Keys carry the cache epoch, 0 on a fresh database.
        warm_key = f"{key_prefix}customer:0:{BUSINESS}:{sample[0][0]}"
        await timed(bare, [f"/redis/{warm_key}"] * 20)
        bare_redis = await timed(bare, [f"/redis/{key_prefix}customer:0:{BUSINESS}:{cid}" for cid, _, _ in sample])
        bare_mongo = await timed(bare, [f"/mongo/{customer_id}" for customer_id, _, _ in sample])
        keys = [key async for key in cache.scan_iter(match=f"{key_prefix}*", count=1000)]
        if keys:
            await cache.delete(*keys)
        await cache.aclose()
    return [
        ("GET /customers/{id} (cache hit)", hit, "Redis GET route", bare_redis),
        ("GET /customers/{id} (cache miss)", miss, "find_one route", bare_mongo),
        ("GET /customers?q=<surname> <2 letters>", search, "find_one route", bare_mongo),
        ("GET /customers?limit=20", listing, "find_one route", bare_mongo),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    service = RunningService(processes=["api"])
    service.start_database()
    try:
        print(f"seeding {args.customers} customers into the read model", flush=True)
        started = time.perf_counter()
        seeded = asyncio.run(seed(service.mongo.url, service.database, args.customers))
        print(f"seeded in {time.perf_counter() - started:.0f}s", flush=True)
        service.start_processes()
        service.start_bare_routes()
        asyncio.run(wait_until_up(f"{service.api_url}/health"))
        asyncio.run(wait_until_up(f"{service.bare_url}/mongo/x"))
        print(f"measuring {args.requests} sequential requests per figure", flush=True)
        rows = asyncio.run(measure(service.api_url, service.bare_url, seeded, args.requests, service.key_prefix))
    finally:
        service.stop()

    print(f"\n{'figure':40} {'p50 ms':>8} {'p95 ms':>8}   {'baseline':16} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p50 ratio':>9} {'p95 ratio':>9}")  # fmt: skip
    for name, samples, baseline_name, baseline in rows:
        p50, p95 = statistics.median(samples) * 1000, percentile(samples, 0.95) * 1000
        base50, base95 = statistics.median(baseline) * 1000, percentile(baseline, 0.95) * 1000
        print(f"{name:40} {p50:8.2f} {p95:8.2f}   {baseline_name:16} {base50:8.2f} {base95:8.2f} "
              f"{p50 / base50:8.1f}x {p95 / base95:8.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
