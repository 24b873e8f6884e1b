"""Each figure of `make bench`: the service driven concurrently, then its bare baseline on
the same servers. A ratio is always "how many times the baseline's cost": a baseline rate
divided by the service's rate, or the service's latency divided by the baseline's."""

import asyncio
import json
import random
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import aio_pika
import httpx
import redis.asyncio as redis
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import OperationFailure

from harness import (
    BUSINESS,
    RABBITMQ_URL,
    REDIS_URL,
    PeakMemory,
    RunningService,
    bearer_token,
    drive,
    mongodb_round_trips,
    percentile,
)
from people import email_of, people

CUSTOMERS = f"/api/v1/businesses/{BUSINESS}/customers"


@dataclass
class Figure:
    name: str
    unit: str  # "/s" (higher is better), "ms" or "MiB" (lower is better)
    service: float | None
    baseline_name: str = ""
    baseline: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if not self.service or not self.baseline:
            return None
        return self.baseline / self.service if self.unit == "/s" else self.service / self.baseline


@dataclass
class Seeded:
    id: str
    first_name: str
    last_name: str


def check_status(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise AssertionError(f"{response.request.method} {response.request.url}: {response.status_code} "
                             f"{response.text[:300]}")  # fmt: skip
    return response


def api_client(service: RunningService, role: str = "staff") -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.AsyncClient(base_url=service.api_url, headers=bearer_token(role), timeout=30, limits=limits)


async def server_operations(mongodb_url: str) -> int:
    """Every operation the server has counted (`serverStatus.opcounters`): divided by the
    work done, what one command or message costs the database, whichever process asks."""
    client = AsyncMongoClient(mongodb_url)
    try:
        return sum((await client.admin.command("serverStatus"))["opcounters"].values())
    finally:
        await client.close()


# -- commands/s ---------------------------------------------------------------------------


async def commands_per_second(
    service: RunningService, count: int, clients: int, tenant: int = 0
) -> tuple[Figure, list[Seeded]]:
    """Registers `count` customers (the seed data) in a business that has `tenant` already,
    and times them; the baseline is the bare 2-statement transaction an append is (bump the
    position counter, insert the event)."""
    seeded: list[Seeded] = []
    async with api_client(service) as api:

        async def register(index: int) -> None:
            first, last = names[index]
            body = {"first_name": first, "last_name": last, "email": email_of(first, last, index),
                    "phone": f"+35191{index:07d}"}  # fmt: skip
            created = check_status(await api.post(CUSTOMERS, json=body), 201).json()
            seeded.append(Seeded(created["id"], first, last))

        names = people(count)
        operations_before = await server_operations(service.mongo.url)
        round_trips_before = await mongodb_round_trips(service)
        driven = await drive("register", range(count), register, clients)
        await wait_for_read_model(service.mongo.url, service.database, tenant + count)
        # Projections and relay have done their part too: the whole system's round trips.
        await asyncio.sleep(1.0)
        operations = (await server_operations(service.mongo.url) - operations_before) / count
        round_trips = (await mongodb_round_trips(service) - round_trips_before) / count
    bare = await bare_transactions(service.mongo.url, count, clients)
    figure = Figure(f"commands/s (POST /customers, {clients} clients)", "/s", driven.rate,
                    "bare 2-statement transaction ($inc + insert)", bare.rate,
                    {"p50_ms": driven.p50_ms, "p99_ms": driven.p99_ms, "baseline_p50_ms": bare.p50_ms,
                     "server_operations_each": operations, "round_trips_each": round_trips})  # fmt: skip
    return figure, seeded


async def bare_transactions(mongodb_url: str, count: int, clients: int):
    """`count` transactions from `clients` workers that take turns on one lock, as the event
    store's appends do in one process (without it they abort each other on the counter)."""
    client = AsyncMongoClient(mongodb_url)
    database = client["bench_bare_transactions"]
    lock = asyncio.Lock()

    async def transaction(index: int) -> None:
        async with lock:
            async with client.start_session() as session:
                async with await session.start_transaction():
                    counter = await database.counters.find_one_and_update(
                        {"_id": "position"}, {"$inc": {"value": 1}}, upsert=True,
                        return_document=ReturnDocument.AFTER, session=session,
                    )  # fmt: skip
                    await database.events.insert_one(
                        {"_id": str(uuid.uuid4()), "stream_id": f"s{index}", "version": 1,
                         "position": counter["value"], "payload": {"first_name": f"Ana {index}"}},
                        session=session,
                    )  # fmt: skip

    try:
        return await drive("bare transaction", range(count), transaction, clients)
    finally:
        await client.drop_database("bench_bare_transactions")
        await client.close()


async def wait_for_read_model(mongodb_url: str, database: str, count: int, seconds: float = 300) -> None:
    """Until the live generation of the views holds `count` customers (counted from the
    collection's metadata: a count of 100,000 documents would read them all)."""
    client = AsyncMongoClient(mongodb_url)
    deadline = time.monotonic() + seconds
    try:
        while (projected := await client[database][await _live_collection(client[database], "customer_details")]
               .estimated_document_count()) < count:  # fmt: skip
            if time.monotonic() > deadline:
                raise TimeoutError(f"the read model has {projected} of {count} customers")
            await asyncio.sleep(0.5)
    finally:
        await client.close()


# -- reads --------------------------------------------------------------------------------


async def reads(service: RunningService, seeded: list[Seeded], count: int, clients: int) -> list[Figure]:
    generator = random.Random(3)
    sample = [generator.choice(seeded) for _ in range(count)]
    cache = redis.from_url(REDIS_URL)
    epoch = await _cache_epoch(cache, service.key_prefix)

    def cache_key(customer: Seeded) -> str:
        return f"{service.key_prefix}customer:{epoch}:{BUSINESS}:{customer.id}"

    async def evict(customer: Seeded) -> None:
        await cache.delete(cache_key(customer))

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        api_client(service, "viewer") as api,
        httpx.AsyncClient(base_url=service.bare_url, limits=limits) as bare,
    ):

        def get(client: httpx.AsyncClient, path_of):
            async def request(customer: Seeded) -> None:
                check_status(await client.get(path_of(customer)), 200)

            return request

        by_id = get(api, lambda customer: f"{CUSTOMERS}/{customer.id}")
        await drive("warm-up", sample[:50], by_id, clients)
        hit = await drive("get by id (cache hit)", sample, by_id, clients)
        miss = await drive("get by id (cache miss)", sample, by_id, clients, before=evict)
        search = await drive("search", sample, get(api, lambda c: f"{CUSTOMERS}?q={c.last_name} {c.first_name[:2]}"),
                             clients)  # fmt: skip
        listing = await drive("list", sample, get(api, lambda _: f"{CUSTOMERS}?limit=20"), clients)
        await drive("bare warm-up", sample[:50], get(bare, lambda c: f"/redis/{cache_key(c)}"), clients)
        bare_redis = await drive("bare Redis GET route", sample, get(bare, lambda c: f"/redis/{cache_key(c)}"), clients)
        bare_mongo = await drive("bare find_one route", sample, get(bare, lambda c: f"/mongo/{c.id}"), clients)
    await cache.aclose()

    def figure(name: str, driven, baseline_name: str, baseline) -> Figure:
        return Figure(f"{name} ({clients} clients)", "/s", driven.rate, baseline_name, baseline.rate,
                      {"p50_ms": driven.p50_ms, "p99_ms": driven.p99_ms,
                       "baseline_p50_ms": baseline.p50_ms, "baseline_p99_ms": baseline.p99_ms})  # fmt: skip

    return [
        figure("GET /customers/{id}, cache hit", hit, "bare route: one Redis GET", bare_redis),
        figure("GET /customers/{id}, cache miss", miss, "bare route: one find_one", bare_mongo),
        figure("GET /customers?q=<surname> <2 letters>", search, "bare route: one find_one", bare_mongo),
        figure("GET /customers?limit=20", listing, "bare route: one find_one", bare_mongo),
    ]


async def _cache_epoch(cache: redis.Redis, key_prefix: str) -> str:
    async for key in cache.scan_iter(match=f"{key_prefix}customer:*", count=1000):
        return key.decode().split(":")[-3]
    return "0"


# -- projection lag -----------------------------------------------------------------------


async def projection_lag(service: RunningService, seeded: list[Seeded], count: int, rate: float) -> Figure:
    """What a client sees: PATCHes sent open loop at `rate` a second (half the measured
    command rate), each followed by plain GETs of the customer, back to back, until one
    shows the PATCH's version; the lag runs from the PATCH's 2xx (its commit). The baseline
    is the least such a path can cost: the bare transaction, a publish to RabbitMQ (with
    confirm), a consume and one `update_one`."""
    customers = random.Random(5).sample(seeded, min(count, len(seeded)))
    lags: list[float] = []
    loop = asyncio.get_running_loop()

    async with api_client(service) as api:

        async def patch_then_read(customer: Seeded, due: float) -> None:
            await asyncio.sleep(max(0.0, due - loop.time()))
            response = check_status(
                await api.patch(f"{CUSTOMERS}/{customer.id}", json={"attributes": {"bench": "lag"}}), 200
            )
            committed, version = time.perf_counter(), int(response.headers["ETag"].strip('"'))
            while True:
                read = check_status(await api.get(f"{CUSTOMERS}/{customer.id}"), 200)
                if read.json()["version"] >= version:
                    lags.append(time.perf_counter() - committed)
                    return
                await asyncio.sleep(0.002)

        start = loop.time() + 0.1
        await asyncio.gather(*(patch_then_read(c, start + i / rate) for i, c in enumerate(customers)))
    bare = await bare_projection_lag(service, len(customers), 4)
    service_p99, bare_p99 = percentile(lags, 0.99) * 1000, percentile(bare, 0.99) * 1000
    figure = Figure(f"projection lag p50, commit to a client's GET ({rate:.0f} PATCHes/s)", "ms",
                    percentile(lags, 0.5) * 1000, "bare: transaction, publish, consume, update_one",
                    percentile(bare, 0.5) * 1000,
                    {"p99_ms": service_p99, "baseline_p99_ms": bare_p99, "samples": len(lags), "rate": rate})  # fmt: skip
    return figure


async def bare_projection_lag(service: RunningService, count: int, clients: int) -> list[float]:
    client = AsyncMongoClient(service.mongo.url)
    database = client["bench_bare_lag"]
    connection = await aio_pika.connect(RABBITMQ_URL)
    lags: list[float] = []
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"{service.namespace}bare.lag", durable=True)
        await database.views.insert_many([{"_id": index, "version": 0} for index in range(count)])
        all_done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            body = json.loads(message.body)
            await database.views.update_one({"_id": body["id"]}, {"$set": {"version": 1}})
            lags.append(time.perf_counter() - body["committed_at"])
            await message.ack()
            if len(lags) == count:
                all_done.set()

        await channel.set_qos(prefetch_count=200)
        consumer_tag = await queue.consume(on_message)
        lock = asyncio.Lock()

        async def commit_and_publish(index: int) -> None:
            async with lock, client.start_session() as session, await session.start_transaction():
                await database.counters.find_one_and_update({"_id": "position"}, {"$inc": {"value": 1}}, upsert=True,
                                                            session=session)  # fmt: skip
                await database.events.insert_one({"stream_id": index, "version": 1}, session=session)
            body = json.dumps({"id": index, "committed_at": time.perf_counter()}).encode()
            await channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue.name)

        await drive("bare commit+publish", range(count), commit_and_publish, clients)
        await asyncio.wait_for(all_done.wait(), 60)
        await queue.cancel(consumer_tag)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
        await client.drop_database("bench_bare_lag")
        await client.close()
    return lags


# -- inbound events/s ---------------------------------------------------------------------


def order_placed(index: int) -> dict:
    """An `order.placed` of the contract (shared/contracts/inbound-events.md), booker and
    attendee one new person: one customer created and linked per message."""
    email = f"booker{index}@example.com"
    return {
        "event_id": str(uuid.uuid4()), "event_type": "order.placed", "schema_version": 1,
        "occurred_at": "2026-11-23T10:15:00Z", "business_id": BUSINESS,
        "data": {
            "order_id": f"ord_bench_{index}", "placed_at": "2026-11-23T10:15:00Z",
            "booker": {"email": email, "first_name": "Booker"},
            "attendees": [{"first_name": "Booker", "last_name": f"N{index}", "email": email}],
            "total_amount_minor": 4500, "currency": "EUR", "items_count": 1, "service_ids": ["svc_massage_60"],
        },
    }  # fmt: skip


async def _publish_all(channel: aio_pika.abc.AbstractChannel, exchange, messages: list[dict], routing_key) -> None:
    for message in messages:
        await exchange.publish(
            aio_pika.Message(json.dumps(message).encode(), message_id=message["event_id"],
                             content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key,
        )  # fmt: skip


async def inbound_events_per_second(service: RunningService, count: int) -> Figure:
    """Publishes `count` order.placed messages and times them until every one is committed
    (in `processed_messages`). Baseline: a bare aio-pika consumer doing one transaction per
    message on the same number of messages."""
    messages = [order_placed(index) for index in range(count)]
    mongo = AsyncMongoClient(service.mongo.url)
    processed = mongo[service.database]["processed_messages"]
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(f"{service.namespace}orders", aio_pika.ExchangeType.TOPIC,
                                                  durable=True)  # fmt: skip
        operations_before = await server_operations(service.mongo.url)
        started = time.perf_counter()
        await _publish_all(channel, exchange, messages, "order.placed")
        published = time.perf_counter() - started
        print(f"  published {count} in {published:.1f} s", flush=True)
        done = 0
        while done < count:
            await asyncio.sleep(0.2)
            done = await processed.count_documents({})
            if time.perf_counter() - started > 600:
                raise TimeoutError(f"{done} of {count} inbound messages processed after 600 s")
        seconds = time.perf_counter() - started
        await asyncio.sleep(2)  # the relay and projectors finish the customers created
        operations = (await server_operations(service.mongo.url) - operations_before) / count
    finally:
        await connection.close()
        await mongo.close()
    bare = await bare_consume(service, messages)
    return Figure("inbound events/s (order.placed, new customer each)", "/s", count / seconds,
                  "bare aio-pika consume + 1 transaction", bare,
                  {"publish_seconds": published, "server_operations_each": operations})  # fmt: skip


async def bare_consume(service: RunningService, messages: list[dict], prefetch: int = 200) -> float:
    client = AsyncMongoClient(service.mongo.url)
    database = client["bench_bare_consume"]
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(f"{service.namespace}bare.inbound", durable=True,
                                            arguments={"x-queue-type": "quorum"})  # fmt: skip
        consumed = 0
        all_done = asyncio.Event()
        lock = asyncio.Lock()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal consumed
            body = json.loads(message.body)
            for attempt in range(20):
                try:
                    async with lock, client.start_session() as session, await session.start_transaction():
                        await database.counters.find_one_and_update(
                            {"_id": "position"}, {"$inc": {"value": 1}}, upsert=True, session=session
                        )
                        await database.processed.insert_one({"_id": body["event_id"]}, session=session)
                    break
                except OperationFailure as error:
                    if not error.has_error_label("TransientTransactionError") or attempt == 19:
                        raise
            await message.ack()
            consumed += 1
            if consumed == len(messages):
                all_done.set()

        started = time.perf_counter()
        await _publish_all(channel, channel.default_exchange, messages, queue.name)
        await channel.set_qos(prefetch_count=prefetch)
        consumer_tag = await queue.consume(on_message)
        await asyncio.wait_for(all_done.wait(), 600)
        seconds = time.perf_counter() - started
        await queue.cancel(consumer_tag)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
        await client.drop_database("bench_bare_consume")
        await client.close()
    return len(messages) / seconds


# -- rebuild ------------------------------------------------------------------------------


async def rebuild_events_per_second(service: RunningService) -> Figure:
    name = "rebuild events/s (customer_details)"
    mongo = AsyncMongoClient(service.mongo.url)
    database = mongo[service.database]
    events = await database["events"].count_documents({"stream_id": {"$regex": "^cus_"}})
    started = time.perf_counter()
    rebuilt = subprocess.run([sys.executable, "-m", "interfaces.cli.main", "projections", "rebuild", "customer_details"],
                             env=service.environment, capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    if rebuilt.returncode != 0:
        await mongo.close()
        raise RuntimeError(f"crm projections rebuild failed: {rebuilt.stdout[-500:]} {rebuilt.stderr[-500:]}")
    replayed = re.search(r"([\d,]+) events of", rebuilt.stdout)
    replayed_count = int(replayed.group(1).replace(",", "")) if replayed else events
    baseline = await bare_rebuild(database)
    await mongo.close()
    return Figure(name, "/s", replayed_count / seconds, "read events + insert_many of the read model's documents",
                  baseline, {"events": replayed_count, "seconds": seconds})  # fmt: skip


# The collections a rebuild of customer_details writes (in the bench's data: no notes or purchases).
REBUILT_COLLECTIONS = ("customer_details", "customer_search")


async def bare_rebuild(database, batch_size: int = 500) -> float:
    """The bare I/O of a rebuild: read every event (whole, as a replay does), and write every
    document of the read model (views and search entries) with `insert_many` into
    collections with the same indexes; as events per second."""
    copies = {}
    for base in REBUILT_COLLECTIONS:
        live = await _live_collection(database, "customer_details", base)
        scratch = database[f"bench_bare_{base}"]
        await scratch.drop()
        await scratch.insert_one({"_id": "x"})
        for name, index in (await database[live].index_information()).items():
            if name != "_id_":
                await scratch.create_index(index["key"], name=name)
        await scratch.delete_many({})
        copies[scratch] = [document async for document in database[live].find({})]
    started = time.perf_counter()
    events = 0
    async for _ in database["events"].find({}):
        events += 1
    for scratch, documents in copies.items():
        for offset in range(0, len(documents), batch_size):
            await scratch.insert_many(documents[offset : offset + batch_size], ordered=False)
    seconds = time.perf_counter() - started
    for scratch in copies:
        await scratch.drop()
    return events / seconds


# -- memory -------------------------------------------------------------------------------


def peak_memory(memory: PeakMemory) -> list[Figure]:
    mib = {name: peak / 2**20 for name, peak in memory.peak_bytes.items()}
    bare = mib.get("bare routes")
    figures = []
    for name in ("api", "relay", "projector", "integration", "secantusdb"):
        if name in mib:
            baseline = ("bare Litestar routes process", bare) if name == "api" else ("", None)
            cpu = {"cpu_seconds": round(memory.cpu_seconds.get(name, 0.0), 1)}
            figures.append(Figure(f"peak memory: {name}", "MiB", mib[name], *baseline, details=cpu))
    return figures


async def _live_collection(database, projection: str, base: str | None = None) -> str:
    """The collection `base` (by default the projection's own) that readers read now (a
    rebuild moves them to a new generation)."""
    base = base or projection
    document = await database["read_models"].find_one({"_id": projection})
    return base if not document or not document["read"] else f"{base}__g{document['read']}"
