"""Where the projection lag goes: the lag at several command rates, and what each process
(and SecantusDB) spends in CPU per command.

Starts the service as `crm run` does on a SecantusDB of its own, registers `--customers`
customers, then for each rate sends `--commands` PATCHes open loop at that rate and times,
for each, its 2xx (the commit) until a change stream on `customer_details` shows its
version (a change stream, not polling, so the measure adds no load). The CPU seconds of
every process over each rate's run, divided by the commands, say which one a rate fills.
The workers' INFO logs (`event published`, `event projected`) then say when, after its
2xx, each PATCH's event was published and each projection had applied it.
The baseline is `bench/figures.py`'s bare path: a transaction, a publish with confirm, a
consume and one `update_one`.

    .venv/bin/python bench/lag_by_rate.py [--rates 10,25,50] [--commands 200] [--customers 300]
"""

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil
from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import CUSTOMERS, api_client, bare_projection_lag, check_status  # noqa: E402
from harness import RunningService, percentile, wait_until_up  # noqa: E402


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    seconds = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        seconds[name] = times.user + times.system
    return seconds


async def lag_at(
    service: RunningService,
    api,
    customer_ids: list[str],
    rate: float,
    count: int,
    responded: dict[tuple[str, int], float],
) -> list[float]:
    mongo = AsyncMongoClient(service.mongo.url)
    views = mongo[service.database]["customer_details"]
    pending: dict[str, tuple[int, float]] = {}
    arrived: dict[str, int] = {}  # versions seen before their command's response was
    lags: list[float] = []
    sent = asyncio.Event()

    async def watch() -> None:
        async with await views.watch(max_await_time_ms=50) as changes:
            while not (sent.is_set() and not pending):
                change = await changes.try_next()
                if change is None or "documentKey" not in change:
                    continue
                document = change.get("fullDocument") or change.get("updateDescription", {}).get("updatedFields", {})
                customer_id = change["documentKey"]["_id"]
                if customer_id in pending and document.get("version", 0) >= pending[customer_id][0]:
                    lags.append(time.perf_counter() - pending.pop(customer_id)[1])
                elif "version" in document:
                    arrived[customer_id] = document["version"]

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.3)  # the change stream is open
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def patch(index: int) -> None:
        await asyncio.sleep(max(0.0, start + index / rate - loop.time()))
        customer_id = customer_ids[index % len(customer_ids)]
        # A value new to the customer, or the PATCH would change nothing (no event).
        response = check_status(
            await api.patch(f"{CUSTOMERS}/{customer_id}", json={"attributes": {"lag": f"{rate}/{index}"}}), 200
        )
        version = int(response.headers["ETag"].strip('"'))
        responded[(customer_id, version)] = time.time()
        if arrived.get(customer_id, 0) >= version:
            lags.append(0.0)  # in the read model before the response reached the client
        else:
            pending[customer_id] = (version, time.perf_counter())

    # One PATCH in flight per customer: a later one would overtake the version awaited.
    await asyncio.gather(*(patch(index) for index in range(count)))
    sent.set()
    await asyncio.wait_for(watcher, 60)
    await mongo.close()
    return lags


def steps(service: RunningService, responded: dict[tuple[str, int], float]) -> dict[str, list[float]]:
    """When each PATCH's event was published and projected (each projection), after its
    2xx, from the relay's and the projector's INFO logs (`event published`, `event projected`)."""
    published: dict[str, float] = {}
    projected: dict[str, list[float]] = {}
    records = [
        json.loads(line)
        for name in ("relay", "projector")
        for line in (service.log_directory / f"{name}.log").read_text(errors="replace").splitlines()
        if line.startswith("{")
    ]
    at = {r["event_id"]: _seconds(r["timestamp"]) for r in records if r.get("event") == "event published"}
    for record in records:
        key = (record.get("customer_id"), record.get("version"))
        if record.get("event") == "event projected" and key in responded:
            projected.setdefault(record["projection"], []).append(_seconds(record["timestamp"]) - responded[key])
            if record["event_id"] in at:
                published[record["event_id"]] = at[record["event_id"]] - responded[key]
    return {"published": list(published.values()), **dict(sorted(projected.items()))}


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


async def measure(service: RunningService, rates: list[float], count: int, customers: int) -> None:
    pids = {name: child.pid for name, child in service.children.items()}
    pids["secantusdb"] = service.mongo_pid
    async with api_client(service) as api:
        customer_ids = [
            check_status(await api.post(CUSTOMERS, json={"first_name": f"Ana{index}"}), 201).json()["id"]
            for index in range(customers)
        ]
        await asyncio.sleep(3)  # the registrations projected
        print(f"\nprojection lag, commit to read model ({count} PATCHes per rate, open loop):")
        for rate in rates:
            before = cpu_seconds(pids)
            responded: dict[tuple[str, int], float] = {}
            lags = await lag_at(service, api, customer_ids, rate, count, responded)
            after = cpu_seconds(pids)
            spent = ", ".join(f"{name} {(after[name] - before[name]) / count * 1000:.1f}" for name in pids)
            print(
                f"  {rate:5.0f}/s: p50 {percentile(lags, 0.5) * 1000:6.1f} ms, p90 {percentile(lags, 0.9) * 1000:6.1f} ms"
                f" ({len(lags)} seen); CPU ms per PATCH: {spent}"
            )
            after_response = steps(service, responded)
            print("         after the 2xx, p50: " + ", ".join(
                f"{step} {percentile(times, 0.5) * 1000:.1f} ms" for step, times in after_response.items()
            ))  # fmt: skip
    bare = await bare_projection_lag(service, count, 4)
    print(f"  bare path (transaction, publish, consume, update_one): p50 {percentile(bare, 0.5) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="10,25,50")
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--customers", type=int, default=300)
    arguments = parser.parse_args()
    rates = [float(rate) for rate in arguments.rates.split(",")]
    service = RunningService()
    service.start_database()
    try:
        service.start_processes()
        asyncio.run(wait_until_up(f"{service.api_url}/ready", ready=True))
        asyncio.run(measure(service, rates, arguments.commands, max(arguments.customers, arguments.commands)))
    finally:
        service.stop()


if __name__ == "__main__":
    main()
