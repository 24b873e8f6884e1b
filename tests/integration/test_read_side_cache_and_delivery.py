"""The Redis cache in front of the read model, its outage, and redelivered events."""

import pytest

from infrastructure.mongo.embedded import free_port
from tests.conftest import serve_api
from tests.projections import redeliver, until_projected
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def registered_and_projected(api, settings, **profile) -> dict:
    created = await api.post(CUSTOMERS, json=profile, headers=bearer(settings))
    assert created.status_code == 201, created.text
    customer = created.json()
    read = await api.get(f"{CUSTOMERS}/{customer['id']}?min_version=1", headers=bearer(settings))
    assert read.status_code == 200, read.text
    return customer


async def test_the_projector_writes_the_cache_entry_when_it_applies_an_event(api, workers, settings, container):
    customer = await registered_and_projected(api, settings, first_name="Ana")
    cache = container.customer_cache()
    cached = await cache.get("biz_1", customer["id"])
    assert cached is not None and (cached.version, cached.first_name) == (1, "Ana")
    assert await cache.get("biz_2", customer["id"]) is None


async def test_a_warm_entry_is_served_from_redis_until_it_is_refreshed(api, workers, settings, container):
    customer = await registered_and_projected(api, settings, first_name="Ana")
    # The projector refreshes the cache first, then the read model: wait for both.
    await until_projected(container)
    # Behind the cache's back: a warm read must not see this.
    views = container.database()["customer_details"]
    await views.update_one({"_id": customer["id"]}, {"$set": {"state.first_name": "Changed"}})
    path = f"{CUSTOMERS}/{customer['id']}"
    assert (await api.get(path, headers=bearer(settings))).json()["first_name"] == "Ana"
    # A newer version replaces the entry; an older or equal one never does.
    cache = container.customer_cache()
    state = await cache.get("biz_1", customer["id"])
    await cache.put_many([state.model_copy(update={"first_name": "Older", "version": 0})])
    assert (await api.get(path, headers=bearer(settings))).json()["first_name"] == "Ana"
    await cache.put_many([state.model_copy(update={"first_name": "Newer", "version": 2})])
    assert (await api.get(path, headers=bearer(settings))).json()["first_name"] == "Newer"
    # Once the entry is gone the read model answers, and warms the cache again.
    await container.redis_client().delete(await cache.key("biz_1", customer["id"]))
    assert (await api.get(path, headers=bearer(settings))).json()["first_name"] == "Changed"
    assert (await cache.get("biz_1", customer["id"])).first_name == "Changed"


async def test_reads_fall_back_to_mongodb_when_redis_is_down(api, workers, settings):
    customer = await registered_and_projected(api, settings, first_name="Ana", last_name="Silva")
    # An API process whose Redis does not answer: nothing listens on that port.
    redis_down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    async with serve_api(redis_down) as api_without_redis:
        headers = bearer(settings)
        for _ in range(2):
            read = await api_without_redis.get(f"{CUSTOMERS}/{customer['id']}", headers=headers)
            assert read.status_code == 200, read.text
            assert read.json()["first_name"] == "Ana"
        created = await api_without_redis.post(CUSTOMERS, json={"first_name": "Rui"}, headers=headers)
        # Without notifications, read-your-writes still works by polling.
        waited = await api_without_redis.get(f"{CUSTOMERS}/{created.json()['id']}?min_version=1", headers=headers)
        assert waited.status_code == 200, waited.text
        listed = await api_without_redis.get(
            CUSTOMERS, params={"q": "rui", "min_position": created.headers["x-position"]}, headers=headers
        )
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]


async def test_a_redelivered_event_changes_neither_the_view_nor_the_cache(api, workers, settings, container):
    customer = await registered_and_projected(api, settings, first_name="Ana")
    await until_projected(container)
    views = container.database()["customer_details"]
    before = await views.find_one({"_id": customer["id"]})
    [recorded] = await container.event_store().load_stream("biz_1", customer["id"])
    # The broker delivers it again, twice, as after a relay crash between publish and progress.
    await redeliver(container, recorded, times=2)
    # A later write proves the projector has consumed what was queued before it.
    await registered_and_projected(api, settings, first_name="Rui")
    await until_projected(container)
    assert await views.find_one({"_id": customer["id"]}) == before
    assert (await container.customer_cache().get("biz_1", customer["id"])).version == 1


async def test_a_refresh_lost_while_redis_is_away_never_serves_the_stale_entry(api, settings, container):
    """The projector cannot reach Redis; the API can. The entry the projector could not
    refresh must not be served once the epoch has been re-read."""
    import asyncio

    from dependency_injector import providers

    from infrastructure.container import Container
    from infrastructure.runtime import run_projectors, start_storage, stop_storage

    blind = Container()
    blind.settings.override(
        providers.Object(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}))
    )
    await start_storage(blind)
    stop = asyncio.Event()
    projector = asyncio.create_task(run_projectors(blind, stop))
    from infrastructure.runtime import run_outbox_relay

    relay = asyncio.create_task(run_outbox_relay(container, stop))
    try:
        customer = (await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))).json()
        path = f"{CUSTOMERS}/{customer['id']}"
        assert (await api.get(f"{path}?min_version=1", headers=bearer(settings))).json()["first_name"] == "Ana"
        await api.patch(path, json={"first_name": "Bea"}, headers=bearer(settings))
        # Wait on the read model itself: a read through the API would refresh the entry.
        for _ in range(200):
            view = await container.customer_views().get("biz_1", customer["id"])
            if view is not None and view.version == 2:
                break
            await asyncio.sleep(0.02)
        assert view.version == 2
        await asyncio.sleep(settings.cache_epoch_refresh_seconds + 0.1)
        assert (await api.get(path, headers=bearer(settings))).json()["first_name"] == "Bea"
    finally:
        stop.set()
        await asyncio.gather(projector, relay, return_exceptions=True)
        await stop_storage(blind)
