"""/api/docs in real Chromium with every request off this server refused: Swagger UI comes from
the project's own static files (drf-spectacular-sidecar), so the docs work offline."""
from __future__ import annotations

import pytest

from tests.support import ARTIFACTS, chromium_page, requires_chromium

pytestmark = [requires_chromium, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    with chromium_page() as page:
        yield page


def test_api_docs_render_without_the_network(live_server, page):
    from playwright.sync_api import expect

    refused: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/admin/orders/bulk")
    assert refused == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "api_docs.png"), full_page=False)
