"""Rebuild speed: `crm projections rebuild customer_details` over 100,000 stored events,
next to the bare I/O of the same work (read every event, `insert_many` every document it
produced: the views and their search entries), on the same server.

    .venv/bin/python bench/rebuild.py [--events 100000] [--events-per-customer 10]

It starts an embedded SecantusDB on a free port (or uses CRM_MONGODB_URL), seeds the
event store directly with documents made by the real codec (personal fields sealed with
real per-customer keys), rebuilds, then reads every event of the log and copies the
rebuilt documents with `insert_many` in batches into fresh collections with the same
indexes: the floor any rebuild pays. Writes `bench/results/rebuild.md` (other sizes: `rebuild-<events>-events.md`).
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dependency_injector import providers  # noqa: E402

from application.partitions import log_partition_of  # noqa: E402
from domain.customer.events import CustomerProfileUpdated, CustomerRegistered  # noqa: E402
from domain.customer.profile import CustomerSegment, CustomerType  # noqa: E402
from harness import code_commit  # noqa: E402
from infrastructure.container import Container  # noqa: E402
from infrastructure.event_codec import stored_payload  # noqa: E402
from infrastructure.mongo.documents import BusinessLog  # noqa: E402
from infrastructure.mongo.embedded import EmbeddedMongo, free_port  # noqa: E402
from infrastructure.mongo.read_model_generations import settle_seconds  # noqa: E402
from infrastructure.operations.projections import ProjectionOperations, retired_generations  # noqa: E402
from infrastructure.projection_registry import projection_spec  # noqa: E402
from infrastructure.runtime import start_storage, stop_storage  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402
from interfaces.cli.console import ProgressBar, progress_bar  # noqa: E402
from people import email_of  # noqa: E402

INSERT_BATCH = 5000
BARE_INSERT_BATCH = 1000
RESULTS = Path(__file__).parent / "results" / "rebuild.md"


async def seed(
    container: Container, events: int, per_customer: int, names: Sequence[tuple[str, str]] | None = None
) -> int:
    """Writes `events` events of `events // per_customer` customers of biz_bench straight
    into the event store (sealed as the service seals them), and the business's log head;
    the customers are `names` (first, last), or Ana<n> Silva."""
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
        if names:
            first, last = names[index]
            email = email_of(first, last, index)
        else:
            first, last, email = f"Ana{index}", "Silva", f"ana{index}@example.com"
        stream = [
            CustomerRegistered(
                occurred_at=at,
                business_id="biz_bench",
                first_name=first,
                last_name=last,
                email=email,
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
            if position % 100_000 < len(documents):
                print(f"seeding: {position:,} of {events:,} events", flush=True)
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


async def bare_rebuild(container: Container) -> tuple[float, float, int]:
    """The bare I/O any rebuild pays: read every event of the log (whole documents, as a
    replay needs them), then `insert_many` every document the rebuild produced (the views
    and their search entries, and any other collection of the read model it filled) into
    fresh collections with the same indexes. Seconds reading, seconds writing, documents."""
    database = container.database()
    collections = container.read_model_collections()
    collections.forget()
    # The generation the rebuild made, which readers now read: each of its collections.
    rebuilt: dict[str, tuple[type, list[dict]]] = {}
    for document_type in projection_spec("customer_details").documents:
        live = await collections.read_name("customer_details", document_type.Settings.name)
        found = [document async for document in database[live].find({})]
        if found:
            rebuilt[f"bare_{document_type.Settings.name}"] = (document_type, found)
    for target in rebuilt:
        await database.drop_collection(target)
    started = time.perf_counter()
    # In windows of positions, as the rebuild reads the log: one sort of a million events
    # keeps SecantusDB's one core busy past the driver's heartbeat, which then drops the
    # connection (`_OperationCancelled`).
    head = await container.event_store().head_position("biz_bench")
    events = 0
    for after in range(0, head, INSERT_BATCH):
        window = {"business_id": "biz_bench", "position": {"$gt": after, "$lte": after + INSERT_BATCH}}
        events += len(await database["events"].find(window).sort("position", 1).to_list(None))
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for target, (document_type, documents) in rebuilt.items():
        # Indexes first, as the rebuild makes them: an index build over 100,000 documents
        # keeps SecantusDB's one core past the driver's heartbeat, which then drops the connection.
        if document_type.Settings.indexes:
            await database[target].create_indexes(document_type.Settings.indexes)
        for offset in range(0, len(documents), BARE_INSERT_BATCH):
            await database[target].insert_many(documents[offset : offset + BARE_INSERT_BATCH], ordered=False)
    written = sum(len(documents) for _, documents in rebuilt.values())
    return read_seconds, time.perf_counter() - started, written


@dataclass
class ReadsDuringRebuild:
    """Reads of customers by id through the service's view store while a rebuild runs."""

    latencies: list[float] = field(default_factory=list)
    missing: int = 0

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        return {
            "reads": len(ordered),
            "missing": self.missing,
            "p50_ms": 1000 * ordered[len(ordered) // 2],
            "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
            "max_ms": 1000 * ordered[-1],
        }


async def read_while(settings: Settings, customers: int, done: Any) -> dict:
    """One reader, a customer at random every 10 ms, until `done`: what a client of the read
    model sees while the rebuild replays, switches readers and drops the old generation."""
    container = Container()
    container.settings.override(providers.Object(settings))
    await start_storage(container)
    try:
        views = container.customer_views()
        reads = ReadsDuringRebuild()
        while not done.is_set():
            customer_id = f"cus_{random.randrange(customers):08d}"
            started = time.perf_counter()
            found = await views.get("biz_bench", customer_id)
            reads.latencies.append(time.perf_counter() - started)
            reads.missing += found is None
            await asyncio.sleep(0.01)
        return reads.summary()
    finally:
        await stop_storage(container)


def reader_process(settings: Settings, customers: int, done: Any, results: Any) -> None:
    results.put(asyncio.run(read_while(settings, customers, done)))


async def rebuild_with_reads(container: Container, batch_size: int, customers: int) -> dict:
    """A second rebuild, over the read model the first one made, with a reader running in a
    process of its own, as the API's readers are: the rebuild's folding holds its own
    process's event loop for up to a second at a time, which no reader elsewhere waits for."""
    context = multiprocessing.get_context("spawn")
    done, results = context.Event(), context.Queue()
    reader = context.Process(target=reader_process, args=(container.settings(), customers, done, results))
    reader.start()
    try:
        await asyncio.sleep(2)  # the reader is connected and reading
        await ProjectionOperations(container, batch_size).rebuild("customer_details")
        # What the projectors do in the background (none run here): drop the old
        # generation, once nobody can write it, while the reader goes on.
        janitor = retired_generations(container)
        while await janitor.pending():
            await janitor.drop_due()
            await asyncio.sleep(0.2)
    finally:
        done.set()
    summary = await asyncio.to_thread(results.get, True, 60)
    reader.join(10)
    return summary


async def main(url: str, events: int, per_customer: int, batch_size: int, with_reads: bool, drop_after: bool) -> dict:
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
        with progress_bar() as bar:
            report = await ProjectionOperations(container, batch_size).rebuild(
                "customer_details", progress=ProgressBar(bar)
            )
        rebuild_seconds = time.perf_counter() - started
        print(
            f"rebuild: {report.events_replayed:,} events in {rebuild_seconds:.1f}s "
            f"({report.events_replayed / rebuild_seconds:,.0f} events/s)",
            flush=True,
        )

        reads = None
        if with_reads:
            reads = await rebuild_with_reads(container, batch_size, events // per_customer)
            print(
                f"reads during a second rebuild: {reads['reads']:,}, {reads['missing']} missing, p50 "
                f"{reads['p50_ms']:.1f} ms, p99 {reads['p99_ms']:.1f} ms, max {reads['max_ms']:.1f} ms",
                flush=True,
            )

        read_seconds, write_seconds, documents = await bare_rebuild(container)
        bare_seconds = read_seconds + write_seconds
        print(
            f"bare: read the {seeded:,} events {read_seconds:.1f}s, the same indexes + insert_many of the "
            f"{documents:,} resulting documents {write_seconds:.1f}s",
            flush=True,
        )
        ratio = rebuild_seconds / bare_seconds
        print(f"ratio rebuild / bare: {ratio:.2f}", flush=True)
        if drop_after:  # a server of its own goes with its directory: dropping takes minutes
            await container.mongo_client().drop_database(settings.mongodb_database)
        return {
            "events": report.events_replayed,
            "documents": documents,
            "rebuild": rebuild_seconds,
            "bare": bare_seconds,
            "bare_read": read_seconds,
            "bare_write": write_seconds,
            "reads": reads,
            "ratio": ratio,
            "settle_seconds": 2 * settle_seconds(settings.read_model_refresh_seconds),
            "batch_size": batch_size,
            "per_customer": per_customer,
        }
    finally:
        await stop_storage(container)


def results_path(events: int) -> Path:
    """`rebuild.md` for the default 100,000 events; other sizes keep a record of their own."""
    return RESULTS if events == 100_000 else RESULTS.with_name(f"rebuild-{events}-events.md")


def reads_section(reads: dict | None) -> str:
    if reads is None:
        return "(Run without `--no-reads` for the reads during a rebuild.)\n"
    return f"""## Reads while a rebuild switches generations

A second rebuild, over the read model the first made, with one reader getting a customer at
random by id through the service's view store every 10 ms from its start to its end
(replay, switch of readers, drop of the old generation):

| reads | missing | p50 | p99 | max |
|---|---|---|---|---|
| {reads["reads"]:,} | {reads["missing"]} | {reads["p50_ms"]:.1f} ms | {reads["p99_ms"]:.1f} ms | {reads["max_ms"]:.1f} ms |

"Missing" counts reads that found no customer: none may, since readers move to the new
generation only once it holds everyone. The max is the longest a read waited.
"""


def write_results(figures: dict, command: str, server: str, started_at: datetime, commit: str) -> None:
    path = results_path(figures["events"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""# Rebuild benchmark

Command: `{command}`, run {started_at:%Y-%m-%d %H:%M} UTC, commit {commit}.

Server: {server}, one core. {figures["events"]:,} stored events ({figures["per_customer"]} per customer:
one registration, then profile updates), personal fields sealed per customer, replayed
in batches of {figures["batch_size"]:,} through the live projection code into the read model's
next generation (folded in memory, written in bulk), then readers switched to it. The rebuild's
time includes {figures["settle_seconds"]:.0f} s of settling (every process must see each generation switch).

| | seconds | events/s |
|---|---|---|
| `crm projections rebuild customer_details` | {figures["rebuild"]:.1f} | {figures["events"] / figures["rebuild"]:,.0f} |
| bare: read every event | {figures["bare_read"]:.1f} | {figures["events"] / figures["bare_read"]:,.0f} |
| bare: the same indexes, then `insert_many` of the {figures["documents"]:,} resulting documents (views and search entries) | {figures["bare_write"]:.1f} | - |
| bare, both | {figures["bare"]:.1f} | {figures["events"] / figures["bare"]:,.0f} |

Ratio rebuild / bare: **{figures["ratio"]:.2f}**.

The bare figure reads every event and writes only the final documents, as the rebuild
left them; the rebuild also decrypts every event, applies it to the aggregate, derives the
lookup, search and sort keys, and writes each customer once per flush it appears in.

{reads_section(figures["reads"])}""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--events-per-customer", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument(
        "--no-reads", action="store_true", help="skip the second rebuild, with a reader, that times reads"
    )
    arguments = parser.parse_args()
    command = "python bench/rebuild.py " + " ".join(sys.argv[1:])
    started_at, commit = datetime.now(UTC), code_commit()
    given = os.environ.get("CRM_MONGODB_URL")
    if given:
        figures = asyncio.run(
            main(
                given,
                arguments.events,
                arguments.events_per_customer,
                arguments.batch_size,
                not arguments.no_reads,
                drop_after=True,
            )
        )
        write_results(figures, command.strip(), "the MongoDB at CRM_MONGODB_URL", started_at, commit)
    else:
        with tempfile.TemporaryDirectory(prefix="crm-bench-rebuild-") as directory:
            server = EmbeddedMongo(free_port(), Path(directory) / "data", Path(directory) / "server.log")
            server.start()
            try:
                figures = asyncio.run(
                    main(
                        server.url,
                        arguments.events,
                        arguments.events_per_customer,
                        arguments.batch_size,
                        not arguments.no_reads,
                        drop_after=False,
                    )
                )
            finally:
                server.stop()
        write_results(figures, command.strip(), "embedded SecantusDB", started_at, commit)
