"""List and search pages as a business grows: every list shape at each size, next to the
bare `find_one` route, and the documents the server examines per page (`explain`).

For each size it starts its own SecantusDB and the real `crm api` process, and seeds two
businesses with the projection's own documents (`view_document`, `search_document`,
written with `insert_many`): `biz_import`, every customer created within one hour (an
import, a new shop), and `biz_spread`, created over two years. Then, per shape and
business:

- documents examined: the listing runs in this process with a command listener; each
  `find` of a page is run again with `explain` (`executionStats.totalDocsExamined`), over
  the first three pages. The first read of a key range has no fences yet and reads the
  range's keys once; its time is reported apart (`first read`), the pages after are not;
- p50 over HTTP: `--requests` sequential GETs walking the pages of the shape (first page,
  then its cursors), against the bare route's `find_one` by `_id` in the same run.

    .venv/bin/python bench/list_growth.py [--sizes 1000,10000] [--large] [--requests 40]

It prints one table per size, then the growth of each shape's p50 from the smallest size
to the largest, and writes `bench/results/list-growth.md` (and `list-latency.png` when
matplotlib is installed).
"""

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pymongo import AsyncMongoClient, monitoring  # noqa: E402

from application.customer_filters import CustomerFilter  # noqa: E402
from application.ports import CustomerListCriteria  # noqa: E402
from application.projections.customer_query_fields import SortField  # noqa: E402
from domain.customer.consents import ConsentEntry  # noqa: E402
from domain.customer.metrics import PurchaseMetrics, Spend  # noqa: E402
from domain.customer.profile import CustomerSegment, CustomerType  # noqa: E402
from domain.customer.state import CustomerState  # noqa: E402
from harness import RunningService, bearer_token, wait_until_up  # noqa: E402
from infrastructure.mongo.client import init_documents  # noqa: E402
from infrastructure.mongo.customer_listing import MongoCustomerListing  # noqa: E402
from infrastructure.mongo.customer_views import search_document, view_document  # noqa: E402
from infrastructure.mongo.list_fences import ListFenceStore  # noqa: E402
from infrastructure.system import SystemClock  # noqa: E402
from people import FIRST_NAMES, surnames  # noqa: E402

LIMIT = 20
NOW = datetime.now(UTC).replace(microsecond=0)
DISTRIBUTIONS = {"import": timedelta(hours=1), "spread": timedelta(days=730)}
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Shape:
    name: str
    parameters: dict  # the HTTP query (and, with `sort`, the in-process criteria)

    @property
    def sort(self) -> str:
        return self.parameters.get("sort", "-created_at")

    def criteria_filter(self) -> CustomerFilter:
        values: dict = {}
        attributes = {}
        for key, value in self.parameters.items():
            if key == "sort":
                continue
            if key.startswith("attr."):
                attributes[key.removeprefix("attr.")] = value
            elif key == "consent":
                values["consent"] = (value,)
            else:
                values[key] = value
        if attributes:
            values["attributes"] = attributes
        return CustomerFilter(**values)


def shapes(last_name: str) -> list[Shape]:
    after = (NOW - timedelta(days=200)).isoformat()
    return [
        Shape("default page (-created_at)", {}),
        Shape("sort=created_at", {"sort": "created_at"}),
        Shape("sort=last_name", {"sort": "last_name"}),
        Shape("sort=-last_name", {"sort": "-last_name"}),
        Shape("sort=-last_purchase_at", {"sort": "-last_purchase_at"}),
        Shape("sort=-total_spent", {"sort": "-total_spent"}),
        Shape("type=regular", {"type": "regular"}),
        Shape("segment=vip&sort=last_name", {"segment": "vip", "sort": "last_name"}),
        Shape("tag=vip&sort=-total_spent", {"tag": "vip", "sort": "-total_spent"}),
        Shape("is_repeat_customer=true", {"is_repeat_customer": "true", "sort": "-last_purchase_at"}),
        Shape("frequency_tier=frequent", {"frequency_tier": "frequent"}),
        Shape("consent=marketing_email", {"consent": "marketing_email"}),
        Shape("contactable=true&sort=last_name", {"contactable": "true", "sort": "last_name"}),
        Shape("attr.card=gold", {"attr.card": "gold"}),
        Shape("q=<surname>", {"q": last_name}),
        Shape("q=<surname>&sort=last_name", {"q": last_name, "sort": "last_name"}),
        Shape("q=an (2 letters)", {"q": "an"}),
        Shape("created_after", {"created_after": after, "sort": "created_at"}),
        Shape("last_purchase_after", {"last_purchase_after": after, "sort": "-last_purchase_at"}),
        Shape("min_purchases+min_total_spent", {"min_purchases": 2, "currency": "EUR", "min_total_spent": 1000}),
    ]


def customer(index: int, business_id: str, size: int, span: timedelta, rng: random.Random, last_names: list[str]):
    purchases = rng.choice([0, 0, 0, 1, 2, 3, 5, 12])
    last_purchase = NOW - timedelta(days=rng.randint(1, 700)) if purchases else None
    created_at = NOW - span + span * index / size
    return CustomerState(
        id=f"cus_{business_id[-1]}{index:08d}", business_id=business_id, first_name=rng.choice(FIRST_NAMES),
        last_name=rng.choice(last_names), email=f"person{index}@example.com", phone=f"+3519{index:08d}",
        type=rng.choice(list(CustomerType)), segment=rng.choice(list(CustomerSegment)),
        tags=("vip",) if index % 10 == 0 else (), attributes={"card": rng.choice(["gold", "silver"])},
        consent_log=(ConsentEntry(purpose="marketing_email", granted=index % 3 == 0, at=created_at),),
        metrics=PurchaseMetrics(
            total_purchases=purchases, last_purchase_at=last_purchase, is_repeat_customer=purchases >= 2,
            spend={"EUR": Spend(lifetime_value_minor=purchases * rng.randint(500, 5000))} if purchases else {},
        ),
        version=1, created_at=created_at.replace(microsecond=created_at.microsecond // 1000 * 1000),
        updated_at=created_at,
    )  # fmt: skip


async def seed(url: str, database_name: str, size: int) -> list[str]:
    client = AsyncMongoClient(url, tz_aware=True)
    database = client[database_name]
    await init_documents(database)
    last_names = surnames(max(50, size // 50))
    for distribution, span in DISTRIBUTIONS.items():
        business_id = f"biz_{distribution}"
        rng = random.Random(7)
        started = time.perf_counter()
        for start in range(0, size, 1000):
            states = [
                customer(index, business_id, size, span, rng, last_names)
                for index in range(start, min(size, start + 1000))
            ]
            await database["customer_details"].insert_many(
                [{"_id": state.id, **view_document(state, set())} for state in states], ordered=False
            )
            await database["customer_search"].insert_many(
                [{"_id": state.id, **search_document(state)} for state in states], ordered=False
            )
            done = min(size, start + 1000)
            if done % 10_000 == 0 or done == size:
                print(f"  {business_id}: seeded {done}/{size} ({time.perf_counter() - started:.0f} s)", flush=True)
    await client.close()
    return last_names


class FindCommands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.finds: list[dict] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.finds.append({key: event.command[key] for key in ("find", "filter", "sort", "limit", "projection")
                               if key in event.command})  # fmt: skip

    def succeeded(self, event) -> None: ...

    def failed(self, event) -> None: ...


async def examined_per_page(url: str, database_name: str, business_id: str, shape: Shape) -> tuple[list[int], float]:
    """Documents examined by each of the first three pages, and the first read's time."""
    listener = FindCommands()
    client = AsyncMongoClient(url, tz_aware=True, event_listeners=[listener])
    database = client[database_name]
    listing = MongoCustomerListing(database, ListFenceStore(database, SystemClock()))
    field = SortField(shape.sort.removeprefix("-"))
    criteria = CustomerListCriteria(
        business_id, shape.criteria_filter(), field, shape.sort.startswith("-"), None, LIMIT
    )
    try:
        started = time.perf_counter()
        await listing.page(criteria)  # the first read of the range leaves its fences
        first_read_ms = (time.perf_counter() - started) * 1000
        examined, after = [], None
        for _ in range(3):
            listener.finds.clear()
            page = await listing.page(
                CustomerListCriteria(criteria.business_id, criteria.filter, field, criteria.descending, after, LIMIT)
            )
            total = 0
            for find in listener.finds:
                explained = await database.command({"explain": find, "verbosity": "executionStats"})
                total += explained["executionStats"]["totalDocsExamined"]
            examined.append(total)
            if page.next is None:
                break
            after = page.next
        return examined, first_read_ms
    finally:
        await client.close()


async def http_p50(service: RunningService, business_id: str, shape: Shape, requests: int) -> float:
    """p50 ms of sequential GETs walking the shape's pages (back to the first at the end)."""
    path = f"/api/v1/businesses/{business_id}/customers"
    query = {key: value for key, value in shape.parameters.items()}
    samples, cursor = [], None
    async with httpx.AsyncClient(base_url=service.api_url, headers=bearer_token("viewer", business_id),
                                 timeout=60) as api:  # fmt: skip
        await api.get(f"{path}?{urlencode({**query, 'limit': LIMIT})}")  # warm the connection
        for _ in range(requests):
            parameters = {**query, "limit": LIMIT, **({"cursor": cursor} if cursor else {})}
            started = time.perf_counter()
            response = await api.get(f"{path}?{urlencode(parameters)}")
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise AssertionError(f"{shape.name}: {response.status_code} {response.text[:300]}")
            cursor = response.json()["next_cursor"]
    return statistics.median(samples)


async def bare_p50(service: RunningService, requests: int) -> float:
    samples = []
    async with httpx.AsyncClient(base_url=service.bare_url, timeout=60) as bare:
        await bare.get("/mongo/cus_i00000000")
        for index in range(requests):
            started = time.perf_counter()
            await bare.get(f"/mongo/cus_i{index:08d}")
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


@dataclass
class Row:
    size: int
    distribution: str
    shape: str
    p50_ms: float
    bare_p50_ms: float
    examined: list[int]
    first_read_ms: float


async def measure_size(service: RunningService, size: int, requests: int) -> list[Row]:
    last_names = await seed(service.mongo.url, service.database, size)
    rows = []
    for distribution in DISTRIBUTIONS:
        business_id = f"biz_{distribution}"
        for shape in shapes(last_names[0]):
            examined, first_read = await examined_per_page(service.mongo.url, service.database, business_id, shape)
            p50 = await http_p50(service, business_id, shape, requests)
            # The bare route beside each shape: the machine's load moves both alike.
            bare = await bare_p50(service, max(10, requests // 2))
            rows.append(Row(size, distribution, shape.name, p50, bare, examined, first_read))
            print(f"  {size:>7} {distribution:6} {shape.name:34} p50 {p50:7.1f} ms  bare {bare:5.1f} ms  "
                  f"{p50 / bare:5.1f}x  examined {examined}  first read {first_read:7.0f} ms", flush=True)  # fmt: skip
    return rows


def table(rows: list[Row]) -> list[str]:
    lines = ["| size | customers created | shape | p50 ms | bare find_one p50 ms | ratio | docs examined per page (pages 1-3) | first read ms |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        lines.append(f"| {row.size:,} | {row.distribution} | `{row.shape}` | {row.p50_ms:.1f} | {row.bare_p50_ms:.1f} | "
                     f"{row.p50_ms / row.bare_p50_ms:.1f}x | {', '.join(map(str, row.examined))} | {row.first_read_ms:.0f} |")  # fmt: skip
    return lines


def growth(rows: list[Row]) -> list[str]:
    sizes = sorted({row.size for row in rows})
    if len(sizes) < 2:
        return []
    smallest, largest = sizes[0], sizes[-1]
    by_key = {(row.size, row.distribution, row.shape): row for row in rows}
    lines = [
        f"| customers created | shape | p50 at {smallest:,} | p50 at {largest:,} | growth |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        if row.size != smallest:
            continue
        large = by_key.get((largest, row.distribution, row.shape))
        if large:
            lines.append(f"| {row.distribution} | `{row.shape}` | {row.p50_ms:.1f} ms | {large.p50_ms:.1f} ms | "
                         f"{large.p50_ms / row.p50_ms:.2f}x |")  # fmt: skip
    return lines


def chart(rows: list[Row]) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart", flush=True)
        return None
    figure, axes = plt.subplots(1, len(DISTRIBUTIONS), figsize=(12, 5), sharey=True)
    for axis, distribution in zip(axes, DISTRIBUTIONS, strict=True):
        for shape in sorted({row.shape for row in rows}):
            points = sorted(
                (row.size, row.p50_ms) for row in rows if row.shape == shape and row.distribution == distribution
            )
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", linewidth=1)
        sizes = sorted({row.size for row in rows if row.distribution == distribution})
        bare = [
            statistics.median(row.bare_p50_ms for row in rows if row.size == size and row.distribution == distribution)
            for size in sizes
        ]
        axis.plot(sizes, bare, "k--", linewidth=2, label="bare find_one (median of its runs)")
        axis.set_xscale("log")
        axis.set_title(f"customers created: {distribution}")
        axis.set_xlabel("customers in the business")
        axis.legend(loc="upper left")
    axes[0].set_ylabel("page p50 ms (one line per list shape)")
    path = RESULTS / "list-latency.png"
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="customers per business, comma-separated")
    parser.add_argument("--large", action="store_true", help="adds 100,000 (seeding takes a while)")
    parser.add_argument("--requests", type=int, default=40, help="sequential GETs per shape")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")] + ([100_000] if arguments.large else [])
    started_at, began = datetime.now(UTC), time.perf_counter()
    rows: list[Row] = []
    for size in sizes:
        service = RunningService(processes=["api"])
        service.start_database()
        try:
            print(f"size {size:,}: seeding two businesses", flush=True)
            service.start_processes()
            service.start_bare_routes()
            asyncio.run(wait_until_up(f"{service.api_url}/health"))
            asyncio.run(wait_until_up(f"{service.bare_url}/mongo/x"))
            rows += asyncio.run(measure_size(service, size, arguments.requests))
        finally:
            service.stop()
    seconds = time.perf_counter() - began
    lines = ["# List pages as a business grows\n",
             f"`{' '.join(['.venv/bin/python bench/list_growth.py', *sys.argv[1:]])}` on "
             f"{started_at:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s. Page size {LIMIT}.\n",
             *table(rows), "", *growth(rows)]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "list-growth.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    written = chart(rows)
    print(f"\nwritten: {RESULTS / 'list-growth.md'}" + (f", {written}" if written else ""))


if __name__ == "__main__":
    main()
