"""Builds the Litestar application from the container.

Each controller owns its paths (no two share one, so each path gets one automatic OPTIONS
answer, with every method of the path in `Allow`), its guards and its dependencies; the
app keeps the container in its state for them (see `interfaces.http.dependencies`).
"""

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from infrastructure.container import Container
from infrastructure.observability.scrape_gauges import ScrapeGauges
from infrastructure.readiness import ReadinessProbe
from infrastructure.runtime import start_storage, stop_storage
from interfaces.http.access_log import AccessLogController
from interfaces.http.api_docs import swagger_render_plugin, swagger_ui_assets
from interfaces.http.auth import JWTAuthenticationMiddleware
from interfaces.http.correlation import correlation_middleware
from interfaces.http.customer_activity import HistoryController, NotesController, PurchasesController
from interfaces.http.customer_bulk import CustomerBulkController
from interfaces.http.customer_collection import CustomerCollectionController
from interfaces.http.customers import CustomerController
from interfaces.http.insights import InsightsController
from interfaces.http.openapi_schema import StrictPydanticSchemaPlugin, link_customer_operations
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.http.rate_limits import RateLimits
from interfaces.http.request_observability import request_observability_middleware
from interfaces.http.segments import SegmentController
from interfaces.http.service import ServiceController

MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/api/docs", "^/api/openapi", "^/api/events$"]
CONTROLLERS = [
    ServiceController,
    CustomerCollectionController,
    CustomerBulkController,
    CustomerController,
    NotesController,
    HistoryController,
    PurchasesController,
    SegmentController,
    InsightsController,
    AccessLogController,
]


def _tracing_plugins(exporter: str) -> list[OpenTelemetryPlugin]:
    """Request spans (continuing a client's `traceparent`) when tracing is on. Only then:
    even with no-op spans its middleware costs about 0.4 ms a request here."""
    if not exporter:
        return []
    return [OpenTelemetryPlugin(OpenTelemetryConfig(exclude_spans=["receive", "send"]))]


def create_app(container: Container | None = None) -> Litestar:
    container = container or Container()
    settings = container.settings()
    readiness = ReadinessProbe(container)
    scrape_gauges = ScrapeGauges(container)

    async def on_startup() -> None:
        await start_storage(container)
        link_customer_operations(app.openapi_schema)

    async def on_shutdown() -> None:
        await readiness.close()
        await scrape_gauges.close()
        await stop_storage(container)

    app = Litestar(
        route_handlers=[*CONTROLLERS, swagger_ui_assets()],
        state=State({"container": container, "readiness": readiness, "scrape_gauges": scrape_gauges}),
        middleware=[
            correlation_middleware,
            request_observability_middleware,
            DefineMiddleware(
                JWTAuthenticationMiddleware,
                secret=settings.jwt_secret,
                algorithm=settings.jwt_algorithm,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
                exclude=PUBLIC_PATHS,
            ),
            RateLimits(
                settings.redis_url,
                settings.redis_key_prefix,
                settings.rate_limit_per_user,
                settings.rate_limit_per_business,
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="crm",
            version="1.0.0",
            description="Customer service of a booking and commerce platform.",
            path="/api",
            render_plugins=[swagger_render_plugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        plugins=[StrictPydanticSchemaPlugin(), *_tracing_plugins(settings.otel_exporter)],
        # Logs are configured by the process (JSON, see infrastructure/observability/logs.py).
        logging_config=None,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
    )
    return app
