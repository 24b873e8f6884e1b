"""The base of the customer controllers: each owns its paths and answers OPTIONS on them.

Litestar 2 gives a path an OPTIONS handler when the path's first handler is registered,
and that handler's `Allow` lists only the methods known at that moment (litestar issue
4169, fixed in Litestar 3): `OPTIONS /customers` said `GET, OPTIONS`, without `POST`. So
a `ResourceController` gives each of its paths an OPTIONS handler of its own, listing
every method the controller serves there, and registers it first, so that Litestar adds
none. It carries the controller's guards, as Litestar's own does.

Each path belongs to one controller: a second controller on the same path would bring a
second OPTIONS handler, which Litestar refuses.
"""

from litestar import Controller, Response
from litestar.enums import HttpMethod, MediaType
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.status_codes import HTTP_204_NO_CONTENT


class ResourceController(Controller):
    def get_route_handlers(self) -> list[BaseRouteHandler]:
        handlers = super().get_route_handlers()
        methods_by_path: dict[str, set[str]] = {}
        for handler in handlers:
            if isinstance(handler, HTTPRouteHandler):
                for path in handler.paths:
                    methods_by_path.setdefault(path, set()).update(handler.http_methods)
        options = [self._options_handler(path, methods) for path, methods in sorted(methods_by_path.items())]
        return [*options, *handlers]

    def _options_handler(self, path: str, methods: set[str]) -> HTTPRouteHandler:
        allow = ", ".join(sorted({*methods, HttpMethod.OPTIONS.value}))

        def options() -> Response[None]:
            return Response(
                content=None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow}, media_type=MediaType.TEXT
            )

        handler = HTTPRouteHandler(
            path=path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False
        )(options)
        handler.owner = self
        return handler
