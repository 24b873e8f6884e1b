"""Builds the Litestar application from the container."""

from collections.abc import Callable
from typing import TypeVar

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from infrastructure.container import Container
from infrastructure.observability.scrape_gauges import ScrapeGauges
from infrastructure.readiness import ReadinessProbe
from infrastructure.runtime import start_storage, stop_storage
from interfaces.http.auth import JWTAuthenticationMiddleware
from interfaces.http.correlation import correlation_middleware
from interfaces.http.request_observability import request_observability_middleware
from interfaces.http.customer_queries import CustomerQueryController
from interfaces.http.customers import CustomerController
from interfaces.http.problems import EXCEPTION_HANDLERS
from interfaces.http.openapi_schema import StrictPydanticSchemaPlugin
from interfaces.http.rate_limits import RateLimits
from interfaces.http.service import ServiceController

T = TypeVar("T")

MAX_BODY_BYTES = 64 * 1024
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics$", "^/api/docs", "^/api/openapi", "^/api/events$"]


class CustomerRoutes(CustomerController, CustomerQueryController):
    """The command and query routes of customers, in one controller.

    They share paths (`POST` and `GET /customers`); registered as two controllers, each path
    would get two automatic OPTIONS handlers, which Litestar refuses. The command
    controller's class-level guard (the tenant) and dependencies apply to all; the query
    handlers carry their own role guard and dependencies.
    """


def _provide(provider: Callable[[], T]) -> Provide:
    """Hands a container provider to Litestar, which needs a plain function to inspect."""

    def dependency() -> T:
        return provider()

    dependency.__annotations__["return"] = object
    return Provide(dependency, sync_to_thread=False)


def create_app(container: Container | None = None) -> Litestar:
    container = container or Container()
    settings = container.settings()
    readiness = ReadinessProbe(container)
    scrape_gauges = ScrapeGauges(container)

    async def on_startup() -> None:
        await start_storage(container)

    async def on_shutdown() -> None:
        await readiness.close()
        await scrape_gauges.close()
        await stop_storage(container)

    return Litestar(
        route_handlers=[ServiceController, CustomerRoutes],
        dependencies={
            **{
                name: _provide(getattr(container, name))
                for name in (
                    "register_customer",
                    "update_customer",
                    "replace_customer",
                    "delete_customer",
                    "restore_customer",
                    "add_note",
                    "update_preferences",
                    "set_consent",
                    "merge_customers",
                    "erase_customer",
                    "export_customer",
                )
            },
            "get_customer": _provide(container.get_customer),
            "list_notes": _provide(container.list_notes),
            "list_history": _provide(container.list_history),
            "list_customers": _provide(container.list_customers),
            "get_purchases": _provide(container.get_purchases),
            "get_metrics": _provide(container.get_metrics),
            "readiness": _provide(lambda: readiness),
            "scrape_gauges": _provide(lambda: scrape_gauges),
        },
        middleware=[
            correlation_middleware,
            request_observability_middleware,
            DefineMiddleware(
                JWTAuthenticationMiddleware,
                secret=settings.jwt_secret,
                algorithm=settings.jwt_algorithm,
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
            render_plugins=[SwaggerRenderPlugin(path="/docs")],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"bearer": []}],
        ),
        plugins=[StrictPydanticSchemaPlugin()],


        # Logs are configured by the process (JSON, see infrastructure/observability/logs.py).
        logging_config=None,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
    )
