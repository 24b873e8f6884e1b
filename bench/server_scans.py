"""What a scan costs the embedded SecantusDB, and what it costs everybody else meanwhile.

Why a rebuild's clean-up still stalls a reader about a second at 100,000 customers: the
old generation is emptied in deletes of 500 `_id`s, but finding those ids takes one query
over the collection, and SecantusDB reads a whole collection (or a whole `_id` range)
before it applies `limit`, while every other client waits. Seeds `--documents` documents
of about 300 bytes in a collection, then times each query shape alone, and the longest
wait of a reader (a `find_one` by `_id` on another collection every 10 ms) while it runs.
The baseline is that reader's own `find_one` with nothing else running.

    .venv/bin/python bench/server_scans.py [--documents 100000]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pymongo import AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from harness import median  # noqa: E402
from infrastructure.mongo.embedded import EmbeddedMongo, free_port  # noqa: E402

BATCH = 500


async def reader(collection, stop: asyncio.Event, waits: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await collection.find_one({"_id": "probe"})
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)


async def with_reader(probe, work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """The work's seconds, and the longest wait of the reader meanwhile."""
    stop, waits = asyncio.Event(), []
    reading = asyncio.create_task(reader(probe, stop, waits))
    await asyncio.sleep(0.2)
    waits.clear()
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    stop.set()
    await reading
    return seconds, max(waits, default=0.0)


async def main(documents: int) -> None:
    server = EmbeddedMongo(free_port(), Path(tempfile.mkdtemp(prefix="crm-scans-")) / "db")
    server.start()
    try:
        client = AsyncMongoClient(server.url)
        database = client["scans"]
        big, probe = database["big"], database["probe"]
        await probe.insert_one({"_id": "probe"})
        for start in range(0, documents, 1000):
            end = min(start + 1000, documents)
            await big.insert_many(
                [{"_id": f"cus_{index:08d}", "state": {"name": "x" * 250}} for index in range(start, end)]
            )
            print(f"\rseeded {end:,} of {documents:,}", end="", flush=True)
        print(flush=True)
        alone = []
        for _ in range(50):
            started = time.perf_counter()
            await probe.find_one({"_id": "probe"})
            alone.append(time.perf_counter() - started)
        middle = documents // 2
        shapes: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("find_one by _id", lambda: big.find_one({"_id": f"cus_{middle:08d}"})),
            (f"find {{_id: $in [{BATCH} ids]}}", lambda: big.find({"_id": {"$in": [f"cus_{i:08d}" for i in range(middle, middle + BATCH)]}}).to_list()),
            (f"find {{}} limit {BATCH}", lambda: big.find({}, {"_id": 1}).limit(BATCH).to_list()),
            ("find_one {}", lambda: big.find_one({})),
            (f"find _id range of {BATCH}", lambda: big.find({"_id": {"$gte": f"cus_{middle:08d}", "$lt": f"cus_{middle + BATCH:08d}"}}, {"_id": 1}).to_list()),
            (f"first batch of find {{}} (batch_size {BATCH})", lambda: anext(aiter(big.find({}, {"_id": 1}).batch_size(BATCH)))),
        ]  # fmt: skip
        print(f"\n{documents:,} documents; a reader's find_one by _id alone: p50 {median(alone) * 1000:.1f} ms\n")
        print("| query | its time | a reader's longest wait meanwhile | ratio to the reader's p50 alone |")
        print("|---|---|---|---|")
        for label, work in shapes:
            seconds, longest = await with_reader(probe, work)
            print(
                f"| {label} | {seconds * 1000:,.1f} ms | {longest * 1000:,.1f} ms | {longest / median(alone):,.0f}x |"
            )
        await client.close()
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().documents))
