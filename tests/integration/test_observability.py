"""Metrics, correlated logs and readiness, on the real servers."""

import asyncio
import time
from pathlib import Path

import pytest
import structlog
from dependency_injector import providers
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.container import Container
from infrastructure.mongo.embedded import EmbeddedMongo, free_port
from interfaces.http.app import create_app
from tests.conftest import METRICS_TOKEN
from tests.tokens import bearer

pytestmark = pytest.mark.integration
CUSTOMERS = "/api/v1/businesses/biz_1/customers"


async def scrape(api) -> dict[tuple[str, tuple], float]:
    response = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_the_metrics_move_with_requests_commands_projections_and_the_cache(api, workers, settings):
    before = await scrape(api)
    created = await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))
    customer_id = created.json()["id"]
    path = f"{CUSTOMERS}/{customer_id}"
    assert (await api.get(f"{path}?min_version=1", headers=bearer(settings))).status_code == 200
    await api.get(path, headers=bearer(settings))  # warm: from the cache
    assert (await api.patch(path, json={"email": "nope"}, headers=bearer(settings))).status_code == 422
    after = await scrape(api)

    route = "/api/v1/businesses/{business_id}/customers"
    assert (
        value(after, "crm_http_requests_total", method="POST", route=route, status="201")
        == value(before, "crm_http_requests_total", method="POST", route=route, status="201") + 1
    )
    assert value(after, "crm_http_request_duration_seconds_count", method="POST", route=route) > value(
        before, "crm_http_request_duration_seconds_count", method="POST", route=route
    )
    assert value(after, "crm_command_outcomes_total", command="registerCustomer", outcome="ok") >= 1
    assert value(after, "crm_command_outcomes_total", command="updateCustomer", outcome="rejected") >= 1
    assert value(after, "crm_projection_events_total", projection="customer_details") > value(
        before, "crm_projection_events_total", projection="customer_details"
    )
    assert value(after, "crm_relay_published_events_total") > value(before, "crm_relay_published_events_total")
    assert value(after, "crm_cache_lookups_total", result="hit") > value(
        before, "crm_cache_lookups_total", result="hit"
    )
    assert 0 < value(after, "crm_cache_hit_ratio") <= 1
    assert value(after, "crm_projection_lag_events", projection="customer_details") == 0
    assert value(after, "crm_outbox_pending_events") == 0
    queue = f"{settings.amqp_namespace}crm.projection.customer_details.dlq"
    assert ("crm_dead_letter_messages", (("queue", queue),)) in after
    consumed = f"{settings.amqp_namespace}crm.projection.customer_details"
    assert value(after, "crm_consumer_messages_total", queue=consumed, outcome="handled") >= 1


async def test_the_outbox_gauges_count_what_the_relay_has_not_published(api, settings):
    # No relay runs: the event waits in the outbox.
    await api.post(CUSTOMERS, json={"first_name": "Ana"}, headers=bearer(settings))
    await asyncio.sleep(0.05)
    samples = await scrape(api)
    assert value(samples, "crm_outbox_pending_events") == 1
    assert value(samples, "crm_outbox_oldest_pending_age_seconds") > 0
    assert value(samples, "crm_projection_lag_events", projection="customer_history") == 1


async def test_one_correlation_id_is_in_the_logs_of_the_request_the_append_the_publish_and_the_projections(
    api, workers, settings
):
    captured = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, captured])
    try:
        created = await api.post(
            CUSTOMERS, json={"first_name": "Ana"}, headers={**bearer(settings), "X-Correlation-ID": "corr-trace-1"}
        )
        read = await api.get(f"{CUSTOMERS}/{created.json()['id']}?min_version=1", headers=bearer(settings))
        assert read.status_code == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            steps = {
                (entry["event"], entry.get("projection"))
                for entry in captured.entries
                if entry.get("correlation_id") == "corr-trace-1"
            }
            if len(steps) == 6:
                break
            await asyncio.sleep(0.05)
    finally:
        structlog.reset_defaults()
    assert steps == {
        ("request handled", None),
        ("events appended", None),
        ("event published", None),
        ("event projected", "customer_details"),
        ("event projected", "customer_history"),
        ("event projected", "insights"),
    }


async def test_ready_answers_503_within_a_second_with_mongodb_down_and_recovers_by_itself(settings, tmp_path: Path):
    import httpx

    port = free_port()
    server = EmbeddedMongo(port, tmp_path / "data", tmp_path / "server.log")
    server.start()
    container = Container()
    container.settings.override(providers.Object(settings.model_copy(update={"mongodb_url": server.url})))
    app = create_app(container)
    # No lifespan: the test starts the storage itself and closes the clients below.
    transport = httpx.ASGITransport(app=app)
    try:
        from infrastructure.runtime import start_storage

        await start_storage(container)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/ready")).json()["checks"]["mongodb"] == "ok"
            server.stop()
            started = time.monotonic()
            down = await client.get("/ready")
            assert time.monotonic() - started < 1.0
            assert down.status_code == 503 and down.json()["checks"]["mongodb"] != "ok"
            assert down.json()["checks"]["redis"] == "ok"
            server.start()
            deadline = time.monotonic() + 15
            while (await client.get("/ready")).status_code != 200:
                assert time.monotonic() < deadline, "did not recover"
                await asyncio.sleep(0.2)
    finally:
        server.stop()
        await container.mongo_client().close()
        await container.redis_client().aclose()
