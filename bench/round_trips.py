"""Database round trips per registration, across the whole system, by process and command.

Starts the service as `crm run` does (api, relay, projector, integration) on a SecantusDB
of its own, registers `--customers` customers with `--clients` concurrent HTTP clients,
waits until every projection has them, and divides each process's MongoDB commands
(`crm_mongodb_commands_total`, counted by a PyMongo command listener in each process) by
the registrations. Round trips do not depend on the machine's load, unlike timings.
With `--inbound N`, it then publishes N `order.placed` messages (each a new customer, as
the suite's inbound figure does) and counts the same way per message. With `--idle S`, it
first counts the commands per second while nobody asks anything for S seconds: the
background chatter (leases, heartbeats, sweeps, polls) that every figure pays on a
one-core server.

    .venv/bin/python bench/round_trips.py [--customers 300] [--clients 8] [--inbound 300] [--idle 30]
"""

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import api_client, check_status, inbound_events_per_second, wait_for_read_model  # noqa: E402
from harness import METRICS_TOKEN, RunningService, drive, run_against_service  # noqa: E402

CUSTOMERS = "/api/v1/businesses/biz_bench/customers"


async def commands_by_process(service: RunningService) -> dict[str, Counter[str]]:
    urls = {"api": f"{service.api_url}/metrics"}
    urls.update({name: f"http://127.0.0.1:{port}/metrics" for name, port in service.metrics_ports.items()})
    counted: dict[str, Counter[str]] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, url in urls.items():
            counted[name] = Counter()
            scraped = await client.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            for line in scraped.text.splitlines():
                if line.startswith("crm_mongodb_commands_total{"):
                    command = line.split('command="', 1)[1].split('"', 1)[0]
                    counted[name][command] += float(line.rsplit(" ", 1)[1])
    return counted


async def measure(service: RunningService, customers: int, clients: int) -> None:
    async with api_client(service) as api:

        async def register(index: int) -> None:
            body = {"first_name": f"Ana{index}", "last_name": "Silva", "email": f"ana{index}@example.com"}
            check_status(await api.post(CUSTOMERS, json=body), 201)

        await drive("warm-up", range(customers, customers + 20), register, clients)
        await wait_for_read_model(service.mongo.url, service.database, 20)
        await asyncio.sleep(2.0)
        before = await commands_by_process(service)
        await drive("register", range(customers), register, clients)
        await wait_for_read_model(service.mongo.url, service.database, customers + 20)
        await asyncio.sleep(2.0)  # the relay's and projectors' last checkpoints
        after = await commands_by_process(service)
    print_per_process(f"DB round trips per registration ({customers} registrations, {clients} clients)", before,
                      after, customers)  # fmt: skip


async def measure_idle(service: RunningService, seconds: float) -> None:
    await asyncio.sleep(5.0)  # past start-up
    before = await commands_by_process(service)
    await asyncio.sleep(seconds)
    after = await commands_by_process(service)
    print_per_process(f"DB round trips per second, idle ({seconds:.0f} s)", before, after, seconds)


async def measure_inbound(service: RunningService, messages: int) -> None:
    before = await commands_by_process(service)
    figure = await inbound_events_per_second(service, messages)
    after = await commands_by_process(service)
    print_per_process(f"DB round trips per inbound order.placed ({messages} messages, {figure.service:.0f}/s)",
                      before, after, messages)  # fmt: skip


def print_per_process(
    title: str, before: dict[str, Counter[str]], after: dict[str, Counter[str]], count: float
) -> None:
    total = 0.0
    print(f"\n{title}:")
    for name in after:
        delta = after[name] - before[name]
        each = sum(delta.values()) / count
        total += each
        detail = ", ".join(f"{command} {commands / count:.2f}" for command, commands in delta.most_common())
        print(f"  {name:12} {each:5.2f}  ({detail})")
    print(f"  {'whole system':12} {total:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--inbound", type=int, default=0, help="order.placed messages counted after the registrations")
    parser.add_argument(
        "--idle", type=float, default=0, help="seconds of idle chatter counted before the registrations"
    )
    arguments = parser.parse_args()
    phases = [lambda service: measure(service, arguments.customers, arguments.clients)]
    if arguments.idle:
        phases.insert(0, lambda service: measure_idle(service, arguments.idle))
    if arguments.inbound:
        phases.append(lambda service: measure_inbound(service, arguments.inbound))
    run_against_service(*phases)


if __name__ == "__main__":
    main()
