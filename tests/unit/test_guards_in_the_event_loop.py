"""Every guard of every route runs in the event loop: Litestar runs a plain function guard
in its thread pool, a thread hop on each request (found in a py-spy profile of list pages)."""

from dependency_injector import providers
from litestar.utils.sync import AsyncCallable

from infrastructure.container import Container
from infrastructure.settings import Settings
from interfaces.http.app import create_app


def test_no_route_runs_a_guard_in_a_worker_thread():
    container = Container()
    container.settings.override(
        providers.Object(
            Settings(
                env="development",
                mongodb_url="mongodb://127.0.0.1:1/?directConnection=true&retryWrites=false",
                jwt_secret="unit-test-secret-which-is-long-enough",
            )
        )
    )
    app = create_app(container)
    guarded = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            guards = handler.resolve_guards()
            guarded += bool(guards)
            threaded = [getattr(guard, "func", guard).__name__ for guard in guards if isinstance(guard, AsyncCallable)]
            assert not threaded, (route.path, threaded)
    assert guarded > 20  # the business routes, each with its tenant guard
