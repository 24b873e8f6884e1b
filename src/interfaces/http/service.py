"""The service's own routes: liveness, readiness, the event catalogue and Prometheus metrics."""

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, Field

from infrastructure.event_catalogue import event_catalogue
from infrastructure.observability.metrics import exposition
from infrastructure.observability.scrape_gauges import ScrapeGauges
from infrastructure.readiness import ReadinessProbe
from interfaces.http.dependencies import from_app_state


class Readiness(BaseModel):
    status: str = Field(description="`ready` or `not_ready`")
    checks: dict[str, str] = Field(description="`ok`, or what went wrong, per dependency")


class ServiceController(Controller):
    tags = ["service"]
    dependencies = from_app_state("readiness", "scrape_gauges")

    @get("/health", summary="Liveness", operation_id="health", exclude_from_auth=True, security=[{}])
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="Readiness of MongoDB, RabbitMQ and Redis",
        operation_id="ready",
        exclude_from_auth=True,
        security=[{}],
        responses={
            503: ResponseSpec(data_container=Readiness, description="Not ready: `checks` names what does not answer")
        },
    )
    async def ready(self, readiness: NamedDependency[ReadinessProbe]) -> Response[dict[str, object]]:
        checks = await readiness.check()
        ready = all(result == "ok" for result in checks.values())
        return Response(
            {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
        )

    @get(
        "/api/events",
        summary="AsyncAPI document of the events published on the customers exchange",
        operation_id="eventCatalogue",
        exclude_from_auth=True,
        security=[{}],
    )
    async def events(self) -> dict[str, object]:
        return event_catalogue()

    @get(
        "/metrics",
        summary="Prometheus metrics",
        operation_id="metrics",
        exclude_from_auth=True,
        include_in_schema=False,
    )
    async def metrics(self, request: Request, scrape_gauges: NamedDependency[ScrapeGauges]) -> Response[bytes]:
        # Not for anyone who can reach the API port: only for a scraper with CRM_METRICS_TOKEN.
        if not scrape_gauges.served():
            raise NotFoundException("metrics are not served here without CRM_METRICS_TOKEN")
        if not scrape_gauges.authorizes(request.headers.get("authorization", "")):
            raise NotAuthorizedException("the metrics token is required")
        await scrape_gauges.refresh()
        body, media_type = exposition()
        return Response(body, media_type=media_type)
