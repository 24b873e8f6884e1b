"""Bulk import speed: a CSV of N new customers through the import path, next to a bare
`insert_many` of the same customer documents, on the same server, in the same run.

    .venv/bin/python bench/imports.py [--rows 100000]

It starts an embedded SecantusDB on a free port (or uses CRM_MONGODB_URL), writes a CSV
of N distinct customers (name, email, phone, tags, segment), submits it as `POST
/customers/imports` does (parsed and stored in chunks), and runs it with the import
worker's code: every row checked, matched against the contact keys, and registered through
the event store (events, contact keys, snapshot, data key and the row's processed id in
group-committed transactions). Then it copies the resulting customer documents (the
snapshots) into a fresh collection with `insert_many` in batches: the floor any import
writing those customers pays. Writes `bench/results/imports.md`.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from dependency_injector import providers  # noqa: E402

from application.bulk.customer_csv import CSV_MEDIA_TYPE, read_rows  # noqa: E402
from application.bulk.import_jobs import ImportJob  # noqa: E402
from application.bulk.submit_import import SubmitImport  # noqa: E402
from application.commands.context import CommandContext  # noqa: E402
from infrastructure.container import Container  # noqa: E402
from infrastructure.import_worker import import_runner  # noqa: E402
from infrastructure.mongo.embedded import EmbeddedMongo, free_port  # noqa: E402
from infrastructure.observability.logs import configure_logging  # noqa: E402
from infrastructure.runtime import start_storage, stop_storage  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

BUSINESS = "biz_bench"
INSERT_BATCH = 5000
RESULTS = Path(__file__).parent / "results" / "imports.md"


def write_csv(path: Path, rows: int) -> None:
    segments = ("walk_in", "regular", "vip", "wholesale")
    with path.open("w") as file:
        file.write("first_name,last_name,email,phone,tags,segment\n")
        for index in range(rows):
            file.write(
                f"Ana{index},Silva,ana{index}@example.com,+35191{index:07d},tag{index % 7};bench,{segments[index % 4]}\n"
            )


class ProgressPrinter:
    def __init__(self, total: int):
        self._total = total
        self._started = time.perf_counter()
        self._next = 0.0

    def __call__(self, job: ImportJob) -> None:
        fraction = job.processed / max(1, self._total)
        if fraction + 1e-9 < self._next and job.processed < self._total:
            return
        elapsed = time.perf_counter() - self._started
        rate = job.processed / elapsed if elapsed else 0.0
        print(f"  import {job.processed:>7,}/{self._total:,} rows  {elapsed:6.1f}s  {rate:,.0f} rows/s", flush=True)
        self._next = fraction + 0.1


async def bare_insert(container: Container) -> tuple[float, int]:
    database = container.database()
    documents = [document async for document in database["customer_snapshots"].find({"business_id": BUSINESS})]
    target = database["bare_customers"]
    await database.drop_collection("bare_customers")
    started = time.perf_counter()
    for offset in range(0, len(documents), INSERT_BATCH):
        await target.insert_many(documents[offset : offset + INSERT_BATCH], ordered=False)
        print(f"  bare   {min(offset + INSERT_BATCH, len(documents)):>7,}/{len(documents):,} documents", flush=True)
    return time.perf_counter() - started, len(documents)


async def main(url: str, rows: int, directory: Path) -> dict:
    container = Container()
    settings = Settings(
        mongodb_url=url,
        mongodb_database=f"bench_imports_{uuid.uuid4().hex[:6]}",
        redis_key_prefix=f"bench_imports_{uuid.uuid4().hex[:6]}:",
    )
    container.settings.override(providers.Object(settings))
    await start_storage(container)
    try:
        path = directory / "customers.csv"
        write_csv(path, rows)
        print(f"wrote {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB)", flush=True)

        started = time.perf_counter()
        context = CommandContext(actor="bench", correlation_id=str(uuid.uuid4()), causation_id="bench")
        with path.open("rb") as file:
            job = await container.submit_import().execute(
                SubmitImport(business_id=BUSINESS), read_rows(file, CSV_MEDIA_TYPE), context
            )
        upload_seconds = time.perf_counter() - started
        print(f"upload (parse and store {job.chunks} chunks): {upload_seconds:.1f}s", flush=True)

        started = time.perf_counter()
        await import_runner(container, "bench").run_one(BUSINESS, job.id, asyncio.Event(), ProgressPrinter(rows))
        import_seconds = time.perf_counter() - started
        done = await container.get_import().execute(BUSINESS, job.id)
        if (done.status.value, done.created) != ("done", rows):
            raise SystemExit(
                f"the import did not create every row: {done.status.value}, {done.created} created, {done.failed} failed, first errors {done.errors[:3]}"
            )
        print(f"import: {rows:,} rows in {import_seconds:.1f}s ({rows / import_seconds:,.0f} rows/s)", flush=True)

        bare_seconds, documents = await bare_insert(container)
        print(
            f"bare insert_many of the {documents:,} customer documents: {bare_seconds:.1f}s "
            f"({documents / bare_seconds:,.0f} docs/s)",
            flush=True,
        )
        ratio = import_seconds / bare_seconds
        print(f"ratio import / bare: {ratio:.1f}", flush=True)
        await container.mongo_client().drop_database(settings.mongodb_database)
        return {
            "rows": rows,
            "upload": upload_seconds,
            "import": import_seconds,
            "bare": bare_seconds,
            "documents": documents,
            "ratio": ratio,
        }
    finally:
        await stop_storage(container)


def write_results(figures: dict, command: str, server: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"""# Import benchmark

Command: `{command}`

Server: {server}, on this 2-core machine (shared). {figures["rows"]:,} new customers in
one CSV, imported with the import worker's code: each row checked as a registration,
matched against the contact keys (one read per chunk), and registered through the event
store (events, contact keys, snapshot, data key and the row's processed id, group-committed).

| | seconds | rows/s |
|---|---|---|
| upload: parse and store the rows in chunks | {figures["upload"]:.1f} | {figures["rows"] / figures["upload"]:,.0f} |
| import (the worker) | {figures["import"]:.1f} | {figures["rows"] / figures["import"]:,.0f} |
| bare `insert_many` of the {figures["documents"]:,} resulting customer documents | {figures["bare"]:.1f} | {figures["documents"] / figures["bare"]:,.0f} |

Ratio import / bare: **{figures["ratio"]:.1f}**.

The bare figure writes one document per customer; the import writes, per customer, an
event, two contact keys, a snapshot, a data key and a processed id, inside transactions,
after reading the contact keys.
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()
    configure_logging("WARNING")
    command = "python bench/imports.py " + " ".join(sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="crm-bench-imports-") as directory:
        given = os.environ.get("CRM_MONGODB_URL")
        if given:
            figures = asyncio.run(main(given, arguments.rows, Path(directory)))
            write_results(figures, command.strip(), "the MongoDB at CRM_MONGODB_URL")
        else:
            server = EmbeddedMongo(free_port(), Path(directory) / "data", Path(directory) / "server.log")
            server.start()
            try:
                figures = asyncio.run(main(server.url, arguments.rows, Path(directory)))
            finally:
                server.stop()
            write_results(figures, command.strip(), "embedded SecantusDB")
