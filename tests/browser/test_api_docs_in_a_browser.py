"""Swagger UI and ReDoc in Chromium with no network but Larder's own server.

Every request the pages make to anywhere else is refused by the browser context, as it would be
on a machine without internet access; the pages must still render, and the browser must
report no Content-Security-Policy refusal (a console error).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.conftest import Watched, _watch

pytestmark = pytest.mark.browser


@pytest.fixture
def offline(browser: Browser, server_url: str) -> Iterator[tuple[Watched, list[str]]]:
    """A page whose every request off the local server is aborted (and recorded)."""
    context = browser.new_context(base_url=server_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    elsewhere: list[str] = []

    def only_larder(route: Route) -> None:
        url = route.request.url
        if url == server_url or url.startswith(server_url + "/") or url.startswith("blob:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    context.route("**/*", only_larder)
    yield _watch(context.new_page()), elsewhere
    context.close()


def test_swagger_ui_renders_and_calls_the_api_offline(
    offline: tuple[Watched, list[str]],
) -> None:
    watched, elsewhere = offline
    page = watched.page
    page.goto("/docs")

    list_recipes = page.locator("#operations-recipes-recipes-list-recipes")
    expect(list_recipes).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    # Try it out: Swagger UI calls the API from the page, which the policy allows (same origin).
    list_recipes.locator(".opblock-summary").click()
    list_recipes.get_by_role("button", name="Try it out").click()
    list_recipes.get_by_role("button", name="Execute").click()
    status = list_recipes.locator(".live-responses-table tbody .response-col_status")
    expect(status).to_have_text("200")

    assert elsewhere == []
    assert watched.console_errors == []


def test_redoc_renders_offline(offline: tuple[Watched, list[str]]) -> None:
    watched, elsewhere = offline
    page = watched.page
    page.goto("/redoc")

    expect(page.get_by_role("heading", name="Larder (1.0.0)")).to_be_visible()
    expect(page.get_by_role("heading", name="List recipes, newest first")).to_be_visible()
    # The search box works (ReDoc's search runs in a worker the policy allows).
    page.get_by_placeholder("Search...").fill("recipe")
    expect(page.locator("[data-role='search:results']")).to_be_visible()

    assert elsewhere == []
    assert watched.console_errors == []
