"""Larder's pages used the way people use them: in Chromium, against a live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, HOSTILE_LABEL, BrowserData, Watched

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _sign_in(page: Page, data: BrowserData) -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(data.cook_email)
    page.get_by_label("Password").fill(data.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text("Welcome back: you are signed in.")
    expect(page.locator(".who")).to_have_text(data.cook_email)


def _assert_quiet(watched: Watched) -> None:
    """No dialog fired and the browser refused nothing (a CSP refusal is a console error)."""
    assert watched.dialogs == []
    assert watched.console_errors == []


def test_browse_page_and_search(desktop: Watched, browser_data: BrowserData) -> None:
    page = desktop.page
    token = browser_data.token
    page.goto("/")

    labels = page.locator("ol.recipes a.label")
    expect(labels).to_have_count(20)
    expect(labels.first).to_have_text(f"Paging pie 24 {token}")
    # Larder's own stylesheet applied, under the page's Content-Security-Policy.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(251, 250, 247)"

    page.get_by_role("link", name="Older →").click()
    expect(page).to_have_url(re.compile(r"/\?cursor="))
    expect(page.locator("ol.recipes")).to_contain_text(f"Paging pie 00 {token}")
    expect(page.locator("ol.recipes")).not_to_contain_text(f"Paging pie 24 {token}")
    page.get_by_role("link", name="← Newest").click()
    expect(labels.first).to_have_text(f"Paging pie 24 {token}")

    search = page.get_by_role("searchbox", name="Search recipes")
    search.fill(f"SAFFRON {token}")  # case does not matter
    search.press("Enter")
    expect(labels).to_have_text([f"Saffron {token} buns", f"Saffron {token} risotto"])

    search.fill("ab")
    search.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Search needs at least 3 characters.")

    # One recipe's page, and its link out.
    page.goto("/")
    labels.first.click()
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Paging pie 24 {token}")
    link_out = page.locator("a.out")
    expect(link_out).to_have_attribute("rel", "noopener noreferrer")
    expect(link_out).to_have_attribute("href", re.compile(r"^https://example\.com/"))
    _assert_quiet(desktop)


def test_sign_in_add_see_edit_and_delete(desktop: Watched, browser_data: BrowserData) -> None:
    page = desktop.page
    label = f"Browser-made borscht {browser_data.token}"
    _sign_in(page, browser_data)

    page.get_by_role("link", name="Add a recipe").click()
    page.get_by_label("Name").fill(label)
    page.get_by_label("Source").fill("Aunt Olga")
    page.get_by_label("Link").fill("https://example.com/borscht")
    page.get_by_role("button", name="Add recipe").click()

    expect(page.get_by_role("status")).to_have_text("Recipe added.")
    expect(page.locator("ol.recipes a.label").first).to_have_text(label)

    page.get_by_role("link", name=label).click()
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Name").fill(f"{label}, improved")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Recipe saved.")
    expect(page.get_by_role("heading", level=2)).to_have_text(f"{label}, improved")
    page.screenshot(path=str(ARTIFACTS / "recipe.png"))

    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Recipe deleted.")
    expect(page.locator("ol.recipes")).not_to_contain_text(label)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    _assert_quiet(desktop)


def test_a_wrong_password_is_a_message_on_the_page(
    desktop: Watched, browser_data: BrowserData
) -> None:
    page = desktop.page
    page.goto("/login")
    page.get_by_label("Email").fill(browser_data.cook_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")
    expect(page.get_by_label("Email")).to_have_value(browser_data.cook_email)
    _assert_quiet(desktop)


def test_a_hostile_label_stays_text(desktop: Watched, browser_data: BrowserData) -> None:
    page = desktop.page
    page.goto(f"/recipes/{browser_data.hostile_recipe_id}")
    expect(page.get_by_role("heading", level=2)).to_have_text(HOSTILE_LABEL)

    # Typed into the form, too, it is shown as the text it is.
    _sign_in(page, browser_data)
    page.goto("/recipes/new")
    page.get_by_label("Name").fill(HOSTILE_LABEL)
    page.get_by_label("Source").fill("<img src=x onerror=alert(2)>")
    page.get_by_label("Link").fill("https://example.com/hostile")
    page.get_by_role("button", name="Add recipe").click()
    expect(page.get_by_role("status")).to_have_text("Recipe added.")
    first = page.locator("ol.recipes li").first
    expect(first.locator("a.label")).to_have_text(HOSTILE_LABEL)
    expect(first).to_contain_text("<img src=x onerror=alert(2)>")
    assert page.locator("ol.recipes script, ol.recipes img").count() == 0

    first.locator("a.label").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Recipe deleted.")
    _assert_quiet(desktop)


def test_a_screenshot_of_the_home_page(desktop: Watched, browser_data: BrowserData) -> None:
    page = desktop.page
    page.goto("/")
    expect(page.locator("ol.recipes li")).to_have_count(20)
    target = ARTIFACTS / "home.png"
    target.unlink(missing_ok=True)

    page.screenshot(path=str(target), full_page=True)

    assert target.is_file()
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    _assert_quiet(desktop)


def test_the_home_page_fits_a_phone(mobile: Watched, browser_data: BrowserData) -> None:
    page = mobile.page
    page.goto("/")
    expect(page.locator("ol.recipes li").first).to_be_visible()
    # Nothing sticks out sideways at 375 CSS pixels.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    search = page.get_by_role("searchbox", name="Search recipes")
    box = search.bounding_box()
    assert box is not None and box["width"] > 150
    page.screenshot(path=str(ARTIFACTS / "home-mobile.png"))
    _assert_quiet(mobile)
