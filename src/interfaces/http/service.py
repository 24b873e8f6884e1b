
from litestar import Controller, Response, get
from litestar.di import NamedDependency

from infrastructure.event_catalogue import event_catalogue


from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from infrastructure.observability.scrape_gauges import ScrapeGauges
from infrastructure.readiness import ReadinessProbe


class ServiceController(Controller):
    tags = ["service"]

    @get("/health", summary="Liveness", operation_id="health", exclude_from_auth=True, security=[{}])
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="Readiness of MongoDB, RabbitMQ and Redis", operation_id="ready", exclude_from_auth=True, security=[{}])
    async def ready(self, readiness: NamedDependency[ReadinessProbe]) -> Response[dict[str, object]]:
        checks = await readiness.check()
        ready = all(result == "ok" for result in checks.values())
        return Response({"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503)

    @get("/api/events", summary="AsyncAPI document of the events published on the customers exchange",
         operation_id="eventCatalogue", exclude_from_auth=True, security=[{}])
    async def events(self) -> dict[str, object]:
        return event_catalogue()


    @get("/metrics", summary="Prometheus metrics", operation_id="metrics", exclude_from_auth=True,
         include_in_schema=False)
    async def metrics(self, scrape_gauges: NamedDependency[ScrapeGauges]) -> Response[bytes]:
        await scrape_gauges.refresh()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
