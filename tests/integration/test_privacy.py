"""Personal data at rest, GDPR export and erasure, on the real servers."""

import asyncio
import base64
import json
import os

import aio_pika
import pytest
from dependency_injector import providers

from application.integration.messages import ROUTING_KEYS_BY_EXCHANGE
from infrastructure.container import Container
from infrastructure.messaging.topology import queue_names
from infrastructure.operations.projections import PROJECTIONS, ProjectionOperations
from infrastructure.runtime import start_storage, stop_storage
from tests.conftest import RABBITMQ_URL
from tests.inbound import Publisher, envelope, order_placed
from tests.projections import until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"
PERSON = {
    "first_name": "Zephyrine",
    "last_name": "Quattlebaum",
    "email": "Zephyrine.Q@example.org",
    "phone": "+351 913 777 888",
    "address": {"line1": "Rua Xylofonica 9", "city": "Porto"},
}
TRACES = ["zephyr", "quattle", "zephyrine.q", "913777888", "xylofonica"]


async def _register_person(api, settings) -> dict:
    created = await api.post(CUSTOMERS, json=PERSON, headers=bearer(settings))
    assert created.status_code == 201, created.text
    customer = created.json()
    await api.post(
        f"{CUSTOMERS}/{customer['id']}/notes",
        json={"type": "personal", "content": "Zephyrine likes tea"},
        headers=bearer(settings),
    )
    consented = await api.put(
        f"{CUSTOMERS}/{customer['id']}/consents/marketing_email",
        json={"granted": True, "source": "signup_form", "legal_basis": "consent"},
        headers=bearer(settings),
    )
    customer["position"] = int(consented.headers["X-Position"])
    read = await api.get(f"{CUSTOMERS}/{customer['id']}?min_version=3", headers=bearer(settings))
    assert read.status_code == 200, read.text
    return customer


async def _traces_in_database(database) -> list[str]:
    found = []
    for name in await database.list_collection_names():
        async for document in database[name].find():
            text = json.dumps(document, default=str).casefold()
            found += [f"{name}: {trace}" for trace in TRACES if trace in text]
    return found


async def _traces_in_redis(container, prefix: str) -> list[str]:
    redis = container.redis_client()
    found = []
    async for key in redis.scan_iter(match=f"{prefix}*"):
        if await redis.type(key) == b"string":
            text = (await redis.get(key) or b"").decode(errors="replace").casefold()
            found += [f"{key!r}: {trace}" for trace in TRACES if trace in text]
    return found


async def _what_queues_hold(container) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Every queue of the namespace: a partition queue by its depth (a single-active-consumer
    queue allows no `basic.get`, and a drained one holds nothing), a dead-letter queue by its
    messages' bodies, each left where it was (closing the channel hands them back)."""
    names = container.amqp_names()
    partitions = container.settings().consumer_partitions
    depths: dict[str, int] = {}
    parked: dict[str, list[str]] = {}
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        for name in queue_names(names, list(PROJECTIONS), list(ROUTING_KEYS_BY_EXCHANGE), partitions):
            async with connection.channel() as channel:
                queue = await channel.declare_queue(name, passive=True)
                if name != names.dead_letter_queue(names.stream_of(name)):
                    depths[name] = queue.declaration_result.message_count or 0
                    continue
                parked[name] = []
                while (message := await queue.get(fail=False)) is not None:
                    parked[name].append(message.body.decode(errors="replace").casefold())
    return depths, parked


async def _park_an_order_naming(container, email: str) -> None:
    """A malformed order.placed whose booker is the person: the integration worker parks it."""
    poison = envelope("order.placed", order_placed(booker={"email": email}, total_amount_minor="x"), "biz_1")
    names = container.amqp_names()
    async with Publisher(container) as publisher:
        await publisher.publish(poison)
        assert publisher.channel is not None
        for _ in range(400):
            parked = await publisher.channel.declare_queue(
                names.dead_letter_queue(names.inbound_stream("orders")), passive=True
            )
            if parked.declaration_result.message_count:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the poison order was never parked")


async def test_the_event_store_holds_personal_fields_sealed_and_contact_keys_hashed(api, settings, container):
    customer = (await api.post(CUSTOMERS, json=PERSON, headers=bearer(settings))).json()
    raw = await container.database()["events"].find_one({"stream_id": customer["id"]})
    assert set(raw["payload"]["first_name"]) == {"$sealed"}
    assert raw["payload"]["type"] == "new"  # not personal: stays readable
    assert not [trace for trace in TRACES if trace in json.dumps(raw, default=str).casefold()]
    keys = [document async for document in container.database()["contact_keys"].find()]
    assert len(keys) == 2
    assert not [trace for trace in TRACES if trace in json.dumps(keys).casefold()]
    [loaded] = await container.event_store().load_stream("biz_1", customer["id"])
    assert loaded.event.email == "Zephyrine.Q@example.org"


async def test_erasure_removes_the_person_everywhere_even_after_a_full_rebuild(api, workers, settings, container):
    customer = await _register_person(api, settings)
    await _park_an_order_naming(container, PERSON["email"])
    _, parked = await _what_queues_hold(container)
    assert any(PERSON["email"].casefold() in body for bodies in parked.values() for body in bodies)  # the scan sees it
    path = f"{CUSTOMERS}/{customer['id']}"
    erased = await api.post(f"{path}/erase", headers=bearer(settings, roles=("admin",)))
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert (body["status"], body["first_name"], body["email"], body["phone"], body["address"]) == (
        "erased",
        None,
        None,
        None,
        None,
    )
    # The facts stay: the id, and the customer is still there to say it was erased.
    read = await api.get(f"{path}?min_version=4", headers=bearer(settings))
    assert read.json()["status"] == "erased"
    # Its email and phone are free again.
    assert await container.database()["contact_keys"].count_documents({"customer_id": customer["id"]}) == 0
    # Nothing can change an erased customer, not even a second erasure.
    assert (await api.patch(path, json={"first_name": "Z"}, headers=bearer(settings))).status_code == 409
    assert (await api.post(f"{path}/erase", headers=bearer(settings, roles=("admin",)))).status_code == 409

    # customer.erased was published; wait for the projections to apply everything.
    await until_projected(container)
    await _rebuild_projections_from_the_event_store(settings)

    assert await _traces_in_database(container.database()) == []
    assert await _traces_in_redis(container, settings.redis_key_prefix) == []
    depths, parked = await _what_queues_hold(container)
    streams = len(PROJECTIONS) + len(ROUTING_KEYS_BY_EXCHANGE)
    assert (len(depths), len(parked)) == (streams * settings.consumer_partitions, streams)
    assert sum(depths.values()) == 0, depths
    assert [
        (queue, trace) for queue, bodies in parked.items() for body in bodies for trace in TRACES if trace in body
    ] == []
    rebuilt = await container.customer_views().get("biz_1", customer["id"])
    assert rebuilt.status == "erased"


async def _rebuild_projections_from_the_event_store(settings) -> None:
    """`crm projections rebuild` of every projection, from a fresh process state (a new
    container: no data key cached)."""
    container = Container()
    container.settings.override(providers.Object(settings))
    await start_storage(container)
    try:
        for name in PROJECTIONS:
            await ProjectionOperations(container).rebuild(name)
    finally:
        await stop_storage(container)


async def test_the_export_holds_everything_about_the_person_and_is_itself_logged(api, workers, settings):
    customer = await _register_person(api, settings)
    path = f"{CUSTOMERS}/{customer['id']}"
    assert (await api.get(f"{path}/export", headers=bearer(settings))).status_code == 403
    response = await api.get(f"{path}/export", headers=bearer(settings, roles=("manager",), subject="dpo"))
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["customer"]["email"] == PERSON["email"]
    assert [note["content"] for note in export["notes"]] == ["Zephyrine likes tea"]
    assert export["consents_log"][0]["legal_basis"] == "consent"
    assert [entry["event_type"] for entry in export["history"]] == [
        "customer.registered",
        "customer.note_added",
        "customer.consent_recorded",
    ]
    assert export["purchases"]["total_purchases"] == 0
    actions = [(entry["action"], entry["actor"]) for entry in export["access_log"]]
    assert ("export", "dpo") in actions and ("read", "user_1") in actions


async def test_reads_and_lists_are_written_to_the_access_log(api, workers, settings, container):
    customer = await _register_person(api, settings)
    await api.get(f"{CUSTOMERS}/{customer['id']}", headers=bearer(settings, subject="clerk"))
    # Lists read the projection, which may still be catching up with the last write.
    listed = await api.get(
        f"{CUSTOMERS}?q=zephyr&min_position={customer['position']}", headers=bearer(settings, subject="clerk")
    )
    assert [found["id"] for found in listed.json()["items"]] == [customer["id"]]
    # The API ships its spool a few times a second.
    for _ in range(50):
        records = await container.access_log().about("biz_1", customer["id"], limit=10)
        if ("list", "clerk") in [(record.action, record.actor) for record in records]:
            break
        await asyncio.sleep(0.1)
    assert [(record.action, record.actor) for record in records][:2] == [("list", "clerk"), ("read", "clerk")]
    assert all(record.business_id == "biz_1" for record in records)
    assert await container.access_log().about("biz_2", customer["id"], limit=10) == []


async def test_rotating_the_master_key_keeps_every_customer_readable(api, settings, container):
    customer = (await api.post(CUSTOMERS, json=PERSON, headers=bearer(settings))).json()
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = Container()
    rotated.settings.override(
        providers.Object(
            settings.model_copy(
                update={"master_keys": f"{settings.master_keys},k2:{new_key}", "active_master_key": "k2"}
            )
        )
    )
    await start_storage(rotated)
    try:
        assert await rotated.keyring().rotate() == 1
        documents = [document async for document in rotated.database()["customer_keys"].find()]
        assert {document["master_key_id"] for document in documents} == {"k2"}
    finally:
        await stop_storage(rotated)
    only_new = Container()
    only_new.settings.override(
        providers.Object(settings.model_copy(update={"master_keys": f"k2:{new_key}", "active_master_key": "k2"}))
    )
    await start_storage(only_new)
    try:
        [event] = await only_new.event_store().load_stream("biz_1", customer["id"])
        assert event.event.last_name == "Quattlebaum"
    finally:
        await stop_storage(only_new)


async def test_the_access_log_a_killed_process_left_in_its_spool_is_shipped_once(container, settings, tmp_path):
    """A process dies with records in its spool: the next one to look ships them, once."""
    import json
    import subprocess
    import sys

    spool = tmp_path / "spool"
    spool.mkdir()
    script = (
        "import json, os, fcntl, sys, uuid\n"
        f"path = os.path.join({str(spool)!r}, 'dead.jsonl')\n"
        "fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_APPEND, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "for n in range(3):\n"
        "    os.write(fd, (json.dumps({'_id': str(uuid.uuid4()), 'at': '2026-11-23T10:00:00+00:00', 'actor': 'ghost',"
        " 'business_id': 'biz_1', 'customer_ids': ['cus_x'], 'action': 'read', 'correlation_id': str(n)}) + '\\n').encode())\n"
        "os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 9
    assert len((spool / "dead.jsonl").read_text().splitlines()) == 3
    from infrastructure.access_log_spool import SpooledAccessLog
    from infrastructure.mongo.access_log import MongoAccessLog

    survivor = SpooledAccessLog(MongoAccessLog(container.database()), str(spool))
    await survivor._adopt_orphans()
    await survivor._adopt_orphans()  # twice: still stored once
    records = await survivor.about("biz_1", "cus_x", limit=10)
    assert sorted(record.correlation_id for record in records) == ["0", "1", "2"]
    assert not (spool / "dead.jsonl").exists()
    del json


async def test_the_access_log_ships_reads_in_batches_not_one_insert_each(container, tmp_path):
    """Reads that come while the shipper waits go to the database together."""
    from datetime import UTC, datetime

    from application.ports import AccessRecord
    from infrastructure.access_log_spool import SHIP_EVERY_SECONDS, SpooledAccessLog
    from infrastructure.mongo.access_log import MongoAccessLog

    class CountedStore(MongoAccessLog):
        inserts = 0

        async def record_many(self, documents: list[dict]) -> None:
            CountedStore.inserts += 1
            await super().record_many(documents)

    spool = SpooledAccessLog(CountedStore(container.database()), str(tmp_path / "spool"))
    try:
        for number in range(40):
            record = AccessRecord(at=datetime.now(UTC), actor="clerk", business_id="biz_batch",
                                  customer_ids=["cus_batch"], action="read", correlation_id=str(number))  # fmt: skip
            await spool.record(record)
            await asyncio.sleep(0.005)  # 200 reads a second, as a busy API
        for _ in range(50):
            if CountedStore.inserts:
                break
            await asyncio.sleep(SHIP_EVERY_SECONDS / 4)
        await asyncio.sleep(SHIP_EVERY_SECONDS)
        records = await MongoAccessLog(container.database()).about("biz_batch", "cus_batch", limit=100)
        assert len(records) == 40
        # 40 reads over 0.2 s: one or two rounds of the shipper, three at the edges.
        assert CountedStore.inserts <= 3
    finally:
        await spool.close()
