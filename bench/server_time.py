"""Where the database server's time goes per registration, by collection and operation.

Starts the service as `crm run` does on a SecantusDB of its own, registers `--customers`
customers with `--clients` concurrent HTTP clients with the server's profiler on (level 2:
every operation recorded in `system.profile` with its duration), and prints, per collection
and operation, the operations and the server milliseconds each registration cost across
the whole system (API, relay, projectors, and the background chatter of those seconds).

An operation's duration is the server's wall time for it: with concurrent clients it
includes the time it waited for the others (SecantusDB runs one write at a time), and the
profiler's own writes make every operation dearer. Read it for where the time goes and
what each operation costs, not as CPU: on the shared machine two runs of the same code
differ by 10 to 20%, more than a change of a tenth of one collection's cost shows.

    .venv/bin/python bench/server_time.py [--customers 200] [--clients 8]
"""

import argparse
import asyncio
import sys
from collections import defaultdict
from pathlib import Path

from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import api_client, check_status, wait_for_read_model  # noqa: E402
from harness import RunningService, drive, run_against_service  # noqa: E402

CUSTOMERS = "/api/v1/businesses/biz_bench/customers"


async def measure(service: RunningService, customers: int, clients: int) -> None:
    client = AsyncMongoClient(service.mongo.url)
    database = client[service.database]
    async with api_client(service) as api:

        async def register(index: int) -> None:
            body = {
                "first_name": f"Ana{index}",
                "last_name": "Silva",
                "email": f"ana{index}@example.com",
                "phone": f"+3519123{index:05d}",
            }
            check_status(await api.post(CUSTOMERS, json=body), 201)

        await drive("warm-up", range(customers, customers + 20), register, clients)
        await wait_for_read_model(service.mongo.url, service.database, 20)
        await asyncio.sleep(2.0)
        await database.command("profile", 2, slowms=0)
        await drive("register", range(customers), register, clients)
        await wait_for_read_model(service.mongo.url, service.database, customers + 20)
        await asyncio.sleep(2.0)  # the relay's and projectors' last checkpoints
        await database.command("profile", 0)
    spent: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    async for entry in database["system.profile"].find({}, {"ns": 1, "op": 1, "millis": 1}):
        collection = entry.get("ns", "?").split(".", 1)[-1]
        spent[(collection, entry.get("op", "?"))][0] += 1
        spent[(collection, entry.get("op", "?"))][1] += entry.get("millis") or 0
    await client.close()
    total = sum(milliseconds for _, milliseconds in spent.values())
    print(f"\nServer time per registration ({customers} registrations, {clients} clients): {total / customers:.2f} ms")
    print(f"  {'collection':32} {'operation':10} {'ops each':>8} {'ms each':>8} {'share':>6}")
    for (collection, operation), (count, milliseconds) in sorted(spent.items(), key=lambda item: -item[1][1]):
        if milliseconds / total < 0.005:
            continue
        print(f"  {collection:32} {operation:10} {count / customers:8.2f} {milliseconds / customers:8.2f} "
              f"{100 * milliseconds / total:5.1f}%")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    run_against_service(lambda service: measure(service, arguments.customers, arguments.clients))


if __name__ == "__main__":
    main()
