"""Projector throughput with 1, 2 and 4 replicas, and where the time goes.

For each replica count it starts a SecantusDB of its own, the API and the relay, and one
projector for a moment (it declares the partition queues); stops that projector; registers
`--customers` customers over HTTP (their events wait in the partition queues); then starts
N `crm worker projector` processes at once and times how long they take until every
projection's checkpoint (every partition) reaches the business's head. Beside it: the
CPU seconds each process used while draining (the projectors summed, SecantusDB, the
relay), which shows what the 2 cores of this machine spend the time on.

    .venv/bin/python bench/projector_replicas.py [--customers 1000] [--replicas 1,2,4]
"""

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pymongo import AsyncMongoClient  # noqa: E402

from figures import api_client, check_status  # noqa: E402
from harness import RunningService, drive, wait_until_up  # noqa: E402
from infrastructure.mongo.checkpoints import MongoCheckpoints  # noqa: E402
from infrastructure.projection_registry import PROJECTIONS  # noqa: E402
from infrastructure.system import SystemClock  # noqa: E402

BUSINESS = "biz_bench"
PARTITIONS = 8
CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)]
            total += sum(sum(member.cpu_times()[:2]) for member in family)
        except psutil.NoSuchProcess:
            pass
    return total


async def projected_up_to(service: RunningService) -> tuple[int, int, int]:
    """(the lowest checkpoint over every projection and partition, the business's head,
    how many customer views there are)."""
    client = AsyncMongoClient(service.mongo.url, tz_aware=True)
    try:
        database = client[service.database]
        checkpoints = MongoCheckpoints(database, SystemClock(), PARTITIONS)
        head_document = await database["business_logs"].find_one({"_id": BUSINESS})
        head = head_document["head"] if head_document else 0
        reached = [await checkpoints.reached(projection, BUSINESS) for projection in PROJECTIONS]
        return min(reached), head, await database["customer_details"].count_documents({})
    finally:
        await client.close()


async def register(service: RunningService, count: int) -> None:
    async with api_client(service) as api:

        async def one(index: int) -> None:
            body = {"first_name": f"Ana{index}", "last_name": "Silva", "email": f"ana{index}@example.com"}
            check_status(await api.post(CUSTOMERS, json=body), 201)

        await drive("register", range(count), one, 8, report_every=max(1, count // 4))


async def wait_until_published(service: RunningService) -> None:
    client = AsyncMongoClient(service.mongo.url, tz_aware=True)
    try:
        database = client[service.database]
        while True:
            head = (await database["business_logs"].find_one({"_id": BUSINESS}) or {}).get("head", 0)
            progress = await database["relay_progress"].find_one({"_id": BUSINESS})
            if progress and progress.get("published", 0) >= head:
                return
            await asyncio.sleep(0.2)
    finally:
        await client.close()


def _warnings(service: RunningService, replicas: int) -> dict[str, int]:
    """The projectors' warnings and errors, counted by message: retries and conflicts are
    where a drain's time goes when the CPU is idle."""
    counted: dict[str, int] = {}
    for index in range(replicas):
        path = service.log_directory / f"projector-{index}.log"
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("warning", "error"):
                key = str(entry.get("event"))[:80]
                counted[key] = counted.get(key, 0) + 1
    return counted


def run_with(replicas: int, customers: int) -> dict:
    service = RunningService(processes=["api", "relay"], extra_environment={"CRM_CONSUMER_PARTITIONS": str(PARTITIONS)})
    service.start_database()
    try:
        service.start_processes()
        asyncio.run(wait_until_up(f"{service.api_url}/ready", ready=True))
        first = service.spawn("projector-declare", [sys.executable, "-m", "interfaces.cli.main", "worker", "projector"])
        time.sleep(6)  # it declares the partition queues and takes its partitions
        first.send_signal(signal.SIGTERM)
        first.wait(30)
        print(f"{replicas} replica(s): registering {customers} customers with no projector running", flush=True)
        asyncio.run(register(service, customers))
        asyncio.run(asyncio.wait_for(wait_until_published(service), 300))
        database_pid = service.mongo_pid
        relay_pid = service.children["relay"].pid
        before_database, before_relay = cpu_seconds([database_pid]), cpu_seconds([relay_pid])
        started = time.perf_counter()
        projectors = [
            service.spawn(f"projector-{index}", [sys.executable, "-m", "interfaces.cli.main", "worker", "projector"])
            for index in range(replicas)
        ]
        reached, head, last_report, first_applied = 0, 1, 0.0, None
        while reached < head:
            time.sleep(0.2)
            reached, head, views = asyncio.run(projected_up_to(service))
            if first_applied is None and views:
                first_applied = time.perf_counter()
                start_cpu = cpu_seconds([process.pid for process in projectors])
            if time.perf_counter() - last_report > 10:
                print(f"  projected up to {reached}/{head}", flush=True)
                last_report = time.perf_counter()
        ended = time.perf_counter()
        # From the first view written: the processes' start (imports, connections, taking
        # their partitions) is not the projection's throughput.
        seconds = ended - (first_applied or started)
        projector_cpu = cpu_seconds([process.pid for process in projectors]) - start_cpu
        figures = {
            "replicas": replicas,
            "events": head,
            "startup_s": (first_applied or started) - started,
            "seconds": seconds,
            "events_per_second": head / seconds,
            "projector_cpu_s": projector_cpu,
            "database_cpu_s": cpu_seconds([database_pid]) - before_database,  # start-up included
            "relay_cpu_s": cpu_seconds([relay_pid]) - before_relay,
        }
        troubles = _warnings(service, replicas)
        figures["warnings"] = troubles
        print(f"  {head} events through {len(PROJECTIONS)} projections in {seconds:.1f} s "
              f"({figures['events_per_second']:.0f} events/s); CPU s: projectors {projector_cpu:.1f}, "
              f"SecantusDB {figures['database_cpu_s']:.1f}; warnings {troubles}", flush=True)  # fmt: skip
        return figures
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--replicas", default="1,2,4")
    arguments = parser.parse_args()
    rows = [run_with(int(count), arguments.customers) for count in arguments.replicas.split(",")]
    base = rows[0]["events_per_second"]
    print(
        "\n| projector replicas | events | start-up s | drain s | events/s | vs 1 replica | projectors CPU s | SecantusDB CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['replicas']} | {row['events']} | {row['startup_s']:.1f} | {row['seconds']:.1f} | {row['events_per_second']:.0f} | "
              f"{row['events_per_second'] / base:.2f}x | {row['projector_cpu_s']:.1f} | {row['database_cpu_s']:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
