"""/api/docs rendered by a real headless browser that can reach nothing but this machine:
Swagger UI must come from the service itself, and list every operation of the schema."""

import asyncio
import re
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.integration]
skip_without_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is missing (scripts/ensure-services.sh installs Debian's chromium)"
)


async def rendered_dom(url: str) -> str:
    """The page after its scripts ran, from headless Chromium whose name resolution finds
    no host: a page that loads its assets from a CDN stays empty."""
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        # Virtual time: the page's own timers and fetches run to completion before the dump.
        "--virtual-time-budget=30000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


@skip_without_chromium
async def test_swagger_ui_lists_every_operation_from_local_assets(api):
    schema = (await api.get("/api/openapi.json")).json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"} and isinstance(operation, dict)
    }
    assert len(operations) > 10

    page = (await api.get("/api/docs")).text
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert not re.findall(r"(?:src|href)=['\"]https?://", page)

    dom = await rendered_dom(f"{api.base_url}/api/docs")
    assert 'class="swagger-ui"' in dom
    shown = {
        (method.upper(), path)
        for method, path in re.findall(r'class="opblock opblock-(\w+)[^"]*".*?data-path="([^"]+)"', dom, re.S)
    }
    assert operations <= shown, sorted(operations - shown)
