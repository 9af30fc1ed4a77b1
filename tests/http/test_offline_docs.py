"""/docs and /redoc render offline: their pages load Swagger UI and ReDoc from the app itself
(fastapi-offline's bundled files), never from a CDN, and every asset they name is served."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.http.helpers import memory_only


@memory_only
@pytest.mark.parametrize(("page", "scripts"), [("/docs", 1), ("/redoc", 1)])
async def test_the_docs_pages_load_only_assets_the_app_serves(
    client: httpx.AsyncClient, page: str, scripts: int
) -> None:
    html = await client.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
    assert urls, html.text
    assert not [url for url in urls if url.startswith(("http:", "https:", "//"))], urls
    assert "cdn" not in html.text.lower()
    assert "/openapi.json" in html.text
    served = [url for url in urls if url.endswith(".js")]
    assert len(served) >= scripts
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url  # the real bundle, not a placeholder
    assert (await client.get("/openapi.json")).status_code == 200
