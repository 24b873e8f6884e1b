"""`make bench`: one run that seeds data, drives the service over HTTP and RabbitMQ with
concurrent clients, and prints each figure next to a bare baseline measured in the same
run on the same servers.

It starts its own SecantusDB, the real `crm api` and `crm worker relay|projector|integration`
processes, and a bare Litestar process (`bench/bare_routes.py`). The figures and their
baselines are in `bench/figures.py`; the table and the records in `bench/report.py`.

    .venv/bin/python bench/suite.py [--quick] [--customers 600] [--reads 300] [--lag-commands 200]
                                   [--inbound 400] [--clients 8] [--tenant N | --large]

With `--tenant N` the bench's business already has N customers when the figures start
(written straight into the event store, then every read model rebuilt from it:
`bench/tenant.py`), so each figure is taken in a business of that size; `--large` is
100,000. Every record keeps its tenant size, and `bench/results/growth.md` sets the
latest run of each size side by side (`bench/report.py`).

Results go to `bench/results/<timestamp>.json` and `bench/results/latest.md`.
"""

import argparse
import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import (  # noqa: E402
    Figure,
    commands_per_second,
    inbound_events_per_second,
    peak_memory,
    projection_lag,
    reads,
    rebuild_events_per_second,
    wait_for_read_model,
)
from harness import PeakMemory, RunningService, machine_description, wait_until_up  # noqa: E402
from report import print_table, write_records  # noqa: E402

QUICK = {"customers": 300, "reads": 200, "lag_commands": 100, "inbound": 200}
LARGE_TENANT = 100_000


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a run of about a minute: " + str(QUICK))
    parser.add_argument("--customers", type=int, default=600, help="registered over HTTP (the command figure)")
    parser.add_argument("--reads", type=int, default=300, help="requests per read figure")
    parser.add_argument("--lag-commands", type=int, default=200, help="PATCHes timed until the read model has them")
    parser.add_argument("--inbound", type=int, default=400, help="order.placed messages published")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (and transaction workers)")
    parser.add_argument("--no-records", action="store_true", help="print the table only; write nothing")
    parser.add_argument("--tenant", type=int, default=0, help="customers the business has before the figures")
    parser.add_argument("--large", action="store_true", help=f"--tenant {LARGE_TENANT:,}")
    arguments = parser.parse_args()
    if arguments.quick:
        for name, value in QUICK.items():
            setattr(arguments, name, value)
    if arguments.large:
        arguments.tenant = LARGE_TENANT
    return arguments


def give_tenant(service: RunningService, size: int) -> None:
    """The business's first `size` customers, before the service's processes start."""
    print(f"tenant: writing {size:,} customers and building the read models from them", flush=True)
    script = Path(__file__).with_name("tenant.py")
    subprocess.run([sys.executable, str(script), str(size)], env=service.environment, check=True)


async def run_figures(service: RunningService, memory: PeakMemory, arguments: argparse.Namespace) -> list[Figure]:
    url = service.mongo.url
    print(f"seeding and timing {arguments.customers} registrations over HTTP ({arguments.clients} clients)", flush=True)
    commands, seeded = await commands_per_second(service, arguments.customers, arguments.clients, arguments.tenant)
    await wait_for_read_model(url, service.database, arguments.tenant + len(seeded))
    figures = [commands]
    print(f"reads: {arguments.reads} requests per figure ({arguments.clients} clients)", flush=True)
    figures += await reads(service, seeded, arguments.reads, arguments.clients)
    # At half the peak command rate (the one just measured), as a service is run.
    rate = max(1.0, (commands.service or 2.0) / 2)
    print(f"projection lag: {arguments.lag_commands} PATCHes at {rate:.0f}/s", flush=True)
    figures.append(await projection_lag(service, seeded, arguments.lag_commands, rate))
    print(f"inbound: {arguments.inbound} order.placed messages", flush=True)
    figures.append(await inbound_events_per_second(service, arguments.inbound))
    print("rebuild", flush=True)
    figures.append(await rebuild_events_per_second(service))
    return figures + peak_memory(memory)


def main() -> None:
    arguments = parse_arguments()
    started_at = datetime.now(UTC)
    began = time.perf_counter()
    service = RunningService()
    service.start_database()
    try:
        machine = machine_description(service.mongo.url)
        with PeakMemory() as memory:
            memory.watch("secantusdb", service.mongo_pid)
            if arguments.tenant:
                give_tenant(service, arguments.tenant)
            service.start_processes(memory)
            service.start_bare_routes(memory)
            asyncio.run(wait_until_up(f"{service.api_url}/ready", ready=True))
            asyncio.run(wait_until_up(f"{service.bare_url}/mongo/x"))
            figures = asyncio.run(run_figures(service, memory, arguments))
    except BaseException:
        for name in service.children:
            tail = service.log_tail(name, 15)
            if tail:
                print(f"--- last lines of {name}'s log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        service.stop()
    seconds = time.perf_counter() - began
    print(f"\nwhole run: {seconds:.0f} s\n")
    print_table(figures)
    if not arguments.no_records:
        command = "make bench" + (" (--quick)" if arguments.quick else "")
        command += f" (--tenant {arguments.tenant})" if arguments.tenant else ""
        written = write_records(figures, machine, vars(arguments), command, started_at, seconds)
        print(f"\nwritten: {', '.join(str(path) for path in written)}")


if __name__ == "__main__":
    main()
