"""POST a customer, then GET it with min_version: the service against the bare driver.

Starts its own SecantusDB, then the real API and worker processes (as `crm run` does), and
times N sequential register-then-read pairs over HTTP. The baseline, measured in the same
run on the same server, is the bare PyMongo work those requests stand for: the append
transaction (bump the position counter, insert the event) and one `find_one` by id.

    .venv/bin/python bench/command_and_read_latency.py [--requests 300]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt
from pymongo import AsyncMongoClient, ReturnDocument

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from infrastructure.mongo.embedded import EmbeddedMongo, free_port  # noqa: E402

SECRET = "bench-secret-that-is-long-enough-for-hs256"


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def service_figures(base_url: str, requests: int) -> tuple[list[float], list[float]]:
    token = jwt.encode(
        {"sub": "bench", "business_ids": ["biz_bench"], "roles": ["staff"], "exp": int(time.time()) + 3600}, SECRET
    )
    headers = {"Authorization": f"Bearer {token}"}
    posts, gets = [], []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        for index in range(requests):
            started = time.perf_counter()
            created = await client.post(
                "/api/v1/businesses/biz_bench/customers",
                json={"first_name": f"Ana {index}", "email": f"ana{index}@example.com"},
            )
            posted = time.perf_counter()
            assert created.status_code == 201, created.text
            read = await client.get(f"/api/v1/businesses/biz_bench/customers/{created.json()['id']}?min_version=1")
            assert read.status_code == 200, read.text
            posts.append(posted - started)
            gets.append(time.perf_counter() - posted)
            if (index + 1) % 50 == 0:
                print(f"  service: {index + 1}/{requests} register+read pairs", flush=True)
    return posts, gets


async def baseline_figures(mongodb_url: str, requests: int) -> tuple[list[float], list[float]]:
    client = AsyncMongoClient(mongodb_url)
    database = client["bench_baseline"]
    transactions, reads = [], []
    try:
        for index in range(requests):
            started = time.perf_counter()
            async with client.start_session() as session:
                async with await session.start_transaction():
                    counter = await database.counters.find_one_and_update(
                        {"_id": "position"}, {"$inc": {"value": 1}}, upsert=True,
                        return_document=ReturnDocument.AFTER, session=session,
                    )
                    await database.events.insert_one(
                        {"_id": str(uuid.uuid4()), "stream_id": f"s{index}", "version": 1,
                         "position": counter["value"], "payload": {"first_name": f"Ana {index}"}},
                        session=session,
                    )
            written = time.perf_counter()
            await database.events.find_one({"stream_id": f"s{index}"})
            transactions.append(written - started)
            reads.append(time.perf_counter() - written)
    finally:
        await client.drop_database("bench_baseline")
        await client.close()
    return transactions, reads


async def wait_ready(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the service did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crm-bench-") as directory:
        mongo = EmbeddedMongo(free_port(), Path(directory) / "data", Path(directory) / "mongo.log")
        mongo.start()
        api_port = free_port()
        run_id = uuid.uuid4().hex[:8]
        env = {
            **os.environ,
            "CRM_MONGODB_URL": mongo.url,
            "CRM_MONGODB_DATABASE": f"bench_{run_id}",
            "CRM_AMQP_NAMESPACE": f"bench_{run_id}.",
            "CRM_JWT_SECRET": SECRET,
            "CRM_API_PORT": str(api_port),
        }
        commands = [["api"], ["worker", "relay"], ["worker", "projector"]]
        processes = [
            subprocess.Popen([sys.executable, "-m", "interfaces.cli.main", *command], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for command in commands
        ]
        try:
            base_url = f"http://127.0.0.1:{api_port}"
            asyncio.run(wait_ready(base_url))
            print(f"measuring {args.requests} register+read pairs, then the bare driver", flush=True)
            posts, gets = asyncio.run(service_figures(base_url, args.requests))
            transactions, reads = asyncio.run(baseline_figures(mongo.url, args.requests))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(15)
            mongo.stop()

    rows = [
        ("POST /customers", posts, "append transaction (bare PyMongo)", transactions),
        ("GET /customers/{id}?min_version=1", gets, "find_one by id (bare PyMongo)", reads),
    ]
    print(f"\n{'figure':38} {'p50 ms':>8} {'p95 ms':>8}   {'baseline':36} {'p50 ms':>8} {'p95 ms':>8} {'p50 ratio':>10}")
    for name, samples, baseline_name, baseline in rows:
        p50, base_p50 = statistics.median(samples) * 1000, statistics.median(baseline) * 1000
        print(
            f"{name:38} {p50:8.2f} {percentile(samples, 0.95) * 1000:8.2f}   {baseline_name:36} "
            f"{base_p50:8.2f} {percentile(baseline, 0.95) * 1000:8.2f} {p50 / base_p50:9.1f}x"
        )


if __name__ == "__main__":
    main()
