"""What must hold after any fault, once the system has drained."""

import asyncio
import sys
from collections import Counter

import httpx
from dependency_injector import providers

from domain.customer.aggregate import Customer
from domain.customer.events import NoteAdded
from infrastructure.container import Container
from infrastructure.projection_registry import PROJECTIONS
from infrastructure.runtime import start_storage, stop_storage
from infrastructure.settings import Settings
from tests.chaos.load import BUSINESS, Acknowledged, token
from tests.chaos.stack import ROOT, ChaosStack


async def problems_after(stack: ChaosStack, acknowledged: Acknowledged, drain_seconds: float = 90) -> list[str]:
    container = Container()
    container.settings.override(
        providers.Object(
            Settings(
                mongodb_url=stack.mongo.url,
                mongodb_database=stack.database,
                rabbitmq_url=stack.rabbit.url,
                redis_url=stack.redis.url,
            )
        )
    )
    await start_storage(container)
    try:
        drained = await _drained(container, acknowledged, drain_seconds)
        if drained:
            return drained
        return [
            *await _no_acknowledged_command_lost_or_doubled(container, acknowledged),
            *await _every_order_credited_once(container, acknowledged),
            *await _a_list_at_the_newest_position_holds_every_registration(stack, acknowledged),
            *await _projections_equal_a_rebuild(stack),
        ]
    finally:
        await stop_storage(container)


async def _drained(container: Container, acknowledged: Acknowledged, seconds: float) -> list[str]:
    """The outbox is published, the projections have applied it, and every message is processed."""
    database = container.database()
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        head = await container.event_store().head_position(BUSINESS)
        published = (await container.relay_progress().published({BUSINESS})).get(BUSINESS, 0)
        checkpoints = container.checkpoints()
        reached = [await checkpoints.reached(name, BUSINESS) for name in PROJECTIONS]
        processed = await database["processed_messages"].count_documents({"_id": {"$in": acknowledged.message_ids}})
        waiting = []
        if published < head:
            waiting.append("the outbox is not drained")
        if min(reached) < head:
            waiting.append("a projection is behind")
        if processed < len(set(acknowledged.message_ids)):
            waiting.append(f"{len(set(acknowledged.message_ids)) - processed} inbound messages not processed")
        if not waiting:
            return []
        if asyncio.get_running_loop().time() > deadline:
            return [f"not drained after {seconds}s: {', '.join(waiting)}"]
        await asyncio.sleep(0.5)


async def _customer(container: Container, customer_id: str) -> Customer:
    return await container.customer_changes().load(BUSINESS, customer_id, purchases=True)


async def _no_acknowledged_command_lost_or_doubled(container: Container, acknowledged: Acknowledged) -> list[str]:
    problems = []
    for customer_id, email in acknowledged.registered.items():
        customer = await _customer(container, customer_id)
        if customer.state.email != email:
            problems.append(f"{customer_id}: registered with {email}, holds {customer.state.email}")
        missing = acknowledged.attributes.get(customer_id, set()) - set(customer.state.attributes)
        if missing:
            problems.append(f"{customer_id}: acknowledged attributes lost: {sorted(missing)}")
        # Notes are not in the state: each is its own event.
        stream = await container.event_store().load_stream(BUSINESS, customer_id)
        counts = Counter(recorded.event.note.content for recorded in stream if isinstance(recorded.event, NoteAdded))
        for content in acknowledged.notes.get(customer_id, []):
            if counts[content] != 1:
                problems.append(f"{customer_id}: note {content!r} is there {counts[content]} times")
    return problems


async def _every_order_credited_once(container: Container, acknowledged: Acknowledged) -> list[str]:
    problems = []
    holders = container.contact_key_holders()
    orders_by_customer: Counter = Counter()
    for order_id, email in acknowledged.orders.items():
        customer_id = await holders.holder(BUSINESS, "email", email)
        if customer_id is None:
            problems.append(f"{order_id}: no customer holds its booker {email}")
            continue
        orders_by_customer[customer_id] += 1
        customer = await _customer(container, customer_id)
        credited = [order for order in customer.state.purchases.orders if order.order_id == order_id]
        if len(credited) != 1:
            problems.append(f"{order_id}: credited {len(credited)} times to {customer_id}")
    for customer_id, orders in orders_by_customer.items():
        total = (await _customer(container, customer_id)).state.metrics.total_purchases
        if total < orders:
            problems.append(f"{customer_id}: {orders} completed orders acknowledged, {total} purchases counted")
    return problems


async def _a_list_at_the_newest_position_holds_every_registration(
    stack: ChaosStack, acknowledged: Acknowledged
) -> list[str]:
    """`GET /customers?min_position=<the newest X-Position>` lists every customer whose
    registration was acknowledged, whichever API replica answers."""
    if not acknowledged.registered:
        return []
    alive = [
        f"http://127.0.0.1:{port}" for name, port in stack.api_ports.items() if stack.processes[name].poll() is None
    ]
    listed: set[str] = set()
    cursor = None
    async with httpx.AsyncClient(base_url=alive[0], headers={"Authorization": f"Bearer {token()}"}, timeout=30) as api:
        while True:
            params = {
                "limit": 100,
                "min_position": acknowledged.newest_position,
                **({"cursor": cursor} if cursor else {}),
            }
            response = await api.get(f"/api/v1/businesses/{BUSINESS}/customers", params=params)
            if response.status_code != 200:
                return [f"list at min_position {acknowledged.newest_position}: {response.status_code} {response.text}"]
            page = response.json()
            listed |= {customer["id"] for customer in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
    missing = set(acknowledged.registered) - listed
    return (
        [f"{len(missing)} acknowledged registrations missing from the list at the newest position"] if missing else []
    )


async def _projections_equal_a_rebuild(stack: ChaosStack) -> list[str]:
    """`crm projections verify` for every projection: a fresh rebuild, compared with the live one."""
    problems = []
    for name in PROJECTIONS:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "interfaces.cli.main",
            "projections",
            "verify",
            name,
            env=stack.env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
        if process.returncode != 0:
            problems.append(f"crm projections verify {name} exited {process.returncode}: {output.decode()[-800:]}")
    return problems
