"""Rebuild speed: `crm projections rebuild customer_details` over 100,000 stored events,
next to a bare `insert_many` of the documents it produced, on the same server.

    .venv/bin/python bench/rebuild.py [--events 100000] [--events-per-customer 10]

It starts an embedded SecantusDB on a free port (or uses CRM_MONGODB_URL), seeds the
event store directly with documents made by the real codec (personal fields sealed with
real per-customer keys), rebuilds, then copies the rebuilt documents into a fresh
collection with `insert_many` in batches and creates the same indexes: the floor any
rebuild writing those documents pays. Writes `bench/results/rebuild.md`.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dependency_injector import providers  # noqa: E402

from application.partitions import log_partition_of  # noqa: E402
from domain.customer.events import CustomerProfileUpdated, CustomerRegistered  # noqa: E402
from domain.customer.profile import CustomerSegment, CustomerType  # noqa: E402
from infrastructure.container import Container  # noqa: E402
from infrastructure.event_codec import stored_payload  # noqa: E402
from infrastructure.mongo.documents import BusinessLog, CustomerView  # noqa: E402
from infrastructure.mongo.embedded import EmbeddedMongo, free_port  # noqa: E402
from infrastructure.operations.projections import ProjectionOperations  # noqa: E402
from infrastructure.runtime import start_storage, stop_storage  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

INSERT_BATCH = 5000
RESULTS = Path(__file__).parent / "results" / "rebuild.md"


async def seed(container: Container, events: int, per_customer: int) -> int:
    database = container.database()
    master_keys = container.master_keys()
    customers = events // per_customer
    start = datetime(2025, 1, 1, tzinfo=UTC)
    position = 0
    documents: list[dict] = []
    key_documents: list[dict] = []
    for index in range(customers):
        customer_id = f"cus_{index:08d}"
        data_key = os.urandom(32)
        master_id, wrapped = master_keys.wrap(data_key, customer_id)
        key_documents.append({"_id": customer_id, "master_key_id": master_id, "wrapped": wrapped, "created_at": start})
        at = start + timedelta(minutes=index)
        stream = [
            CustomerRegistered(
                occurred_at=at,
                business_id="biz_bench",
                first_name=f"Ana{index}",
                last_name="Silva",
                email=f"ana{index}@example.com",
                phone=f"+3519{index:08d}",
                type=CustomerType.REGULAR,
                segment=CustomerSegment.REGULAR,
            )
        ]
        for version in range(2, per_customer + 1):
            stream.append(
                CustomerProfileUpdated(
                    occurred_at=at + timedelta(seconds=version),
                    changes={"last_name": f"Silva{version}", "tags": [f"tag{version % 5}"]},
                )
            )
        for version, event in enumerate(stream, start=1):
            position += 1
            documents.append(
                {
                    "_id": str(uuid.uuid4()),
                    "business_id": "biz_bench",
                    "stream_id": customer_id,
                    "version": version,
                    "position": position,
                    "event_type": type(event).__name__,
                    "schema_version": event.schema_version,
                    "payload": stored_payload(event, data_key, customer_id),
                    "metadata": {
                        "business_id": "biz_bench",
                        "actor": "bench",
                        "correlation_id": f"bench-{index}",
                        "causation_id": "bench",
                    },
                    "recorded_at": event.occurred_at,
                }
            )
        if len(documents) >= INSERT_BATCH:
            await database["events"].insert_many(documents, ordered=False)
            await database["customer_keys"].insert_many(key_documents, ordered=False)
            documents, key_documents = [], []
    if documents:
        await database["events"].insert_many(documents, ordered=False)
        await database["customer_keys"].insert_many(key_documents, ordered=False)
    # The business's log head, as the event store's appends keep it: what a rebuild replays up to.
    await database[BusinessLog.Settings.name].update_one(
        {"_id": "biz_bench"},
        {
            "$set": {
                "head": position,
                "updated_at": start,
                "log_partition": log_partition_of("biz_bench", container.settings().log_partitions),
            }
        },
        upsert=True,
    )
    return position


async def bare_insert(container: Container) -> tuple[float, int]:
    database = container.database()
    # The generation the rebuild made, which readers now read.
    collections = container.read_model_collections()
    collections.forget()
    live = await collections.read_name("customer_details", CustomerView.Settings.name)
    rebuilt = [document async for document in database[live].find({})]
    target = database["bare_customer_details"]
    await database.drop_collection("bare_customer_details")
    started = time.perf_counter()
    for offset in range(0, len(rebuilt), INSERT_BATCH):
        await target.insert_many(rebuilt[offset : offset + INSERT_BATCH], ordered=False)
    await target.create_indexes(CustomerView.Settings.indexes, maxTimeMS=600_000)
    return time.perf_counter() - started, len(rebuilt)


async def main(url: str, events: int, per_customer: int, batch_size: int) -> dict:
    container = Container()
    settings = Settings(
        mongodb_url=url,
        mongodb_database=f"bench_rebuild_{uuid.uuid4().hex[:6]}",
        redis_key_prefix=f"bench_rebuild_{uuid.uuid4().hex[:6]}:",
    )
    container.settings.override(providers.Object(settings))
    await start_storage(container)
    try:
        started = time.perf_counter()
        seeded = await seed(container, events, per_customer)
        seed_seconds = time.perf_counter() - started
        print(f"seeded {seeded:,} events in {seed_seconds:.1f}s", flush=True)

        started = time.perf_counter()
        report = await ProjectionOperations(container, batch_size).rebuild("customer_details")
        rebuild_seconds = time.perf_counter() - started
        print(
            f"rebuild: {report.events_replayed:,} events in {rebuild_seconds:.1f}s "
            f"({report.events_replayed / rebuild_seconds:,.0f} events/s)",
            flush=True,
        )

        bare_seconds, documents = await bare_insert(container)
        print(
            f"bare insert_many of the {documents:,} resulting documents + the same indexes: {bare_seconds:.1f}s",
            flush=True,
        )
        ratio = rebuild_seconds / bare_seconds
        print(f"ratio rebuild / bare: {ratio:.2f}", flush=True)
        await container.mongo_client().drop_database(settings.mongodb_database)
        return {
            "events": report.events_replayed,
            "documents": documents,
            "rebuild": rebuild_seconds,
            "bare": bare_seconds,
            "ratio": ratio,
            "batch_size": batch_size,
            "per_customer": per_customer,
        }
    finally:
        await stop_storage(container)


def write_results(figures: dict, command: str, server: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"""# Rebuild benchmark

Command: `{command}`

Server: {server}, one core. {figures["events"]:,} stored events ({figures["per_customer"]} per customer:
one registration, then profile updates), personal fields sealed per customer, replayed
in batches of {figures["batch_size"]:,} through the live projection code into the read model's
next generation (folded in memory, written in bulk), then readers switched to it. The rebuild's
time includes about 4 s of settling (every process must see each generation switch).

| | seconds | events/s |
|---|---|---|
| `crm projections rebuild customer_details` | {figures["rebuild"]:.1f} | {figures["events"] / figures["rebuild"]:,.0f} |
| bare `insert_many` of the {figures["documents"]:,} resulting documents, then the same indexes | {figures["bare"]:.1f} | - |

Ratio rebuild / bare: **{figures["ratio"]:.2f}**.

The bare figure writes only the final documents; the rebuild also reads and decrypts
every event, applies it to the aggregate, derives the lookup and sort keys, and writes
each customer once per flush it appears in.
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=5000)
    arguments = parser.parse_args()
    command = "python bench/rebuild.py " + " ".join(sys.argv[1:])
    given = os.environ.get("CRM_MONGODB_URL")
    if given:
        figures = asyncio.run(main(given, arguments.events, arguments.events_per_customer, arguments.batch_size))
        write_results(figures, command.strip(), "the MongoDB at CRM_MONGODB_URL")
    else:
        with tempfile.TemporaryDirectory(prefix="crm-bench-rebuild-") as directory:
            server = EmbeddedMongo(free_port(), Path(directory) / "data", Path(directory) / "server.log")
            server.start()
            try:
                figures = asyncio.run(
                    main(server.url, arguments.events, arguments.events_per_customer, arguments.batch_size)
                )
            finally:
                server.stop()
        write_results(figures, command.strip(), "embedded SecantusDB")
