"""Swagger UI at /api/docs, from assets the service serves itself.

Litestar's plugin loads Swagger UI from a CDN by default, so the page stays blank on a
machine without internet access. The `swagger-ui-py` package ships the Swagger UI 5
distribution (which renders OpenAPI 3.1, what Litestar writes); the API serves its static
folder under /api/docs/assets and the plugin points there.
"""

from importlib.util import find_spec
from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

DOCS_PATH = "/docs"
ASSETS_PATH = "/api/docs/assets"


def swagger_ui_assets_folder() -> Path:
    # Found without importing `swagger_ui`, whose package imports its framework adapters.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def swagger_ui_assets() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH, directories=[swagger_ui_assets_folder()], include_in_schema=False, name="swagger_ui_assets"
    )


def swagger_render_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path=DOCS_PATH,
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        # Litestar's default favicon is on a CDN too.
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )
