"""The server-rendered home page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import make_recipe


def test_home_lists_the_newest_recipes_with_links(client: TestClient) -> None:
    older = make_recipe(label="Older stew", url="https://example.com/older")
    newer = make_recipe(label="Newer soup", source="Soup Weekly")

    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.index("Newer soup") < html.index("Older stew")
    assert f'href="{older.url}"' in html
    assert "Soup Weekly" in html
    assert newer.label in html
    assert '<form class="search" action="/" method="get"' in html


def test_home_escapes_what_users_wrote(client: TestClient) -> None:
    make_recipe(label="<script>alert(1)</script>", source="<b>bold</b>")
    html = client.get("/").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_home_searches_with_q(client: TestClient) -> None:
    make_recipe(label="Wombat casserole")
    make_recipe(label="Plain toast")

    html = client.get("/", params={"q": "WOMBAT"}).text

    assert "Wombat casserole" in html
    assert "Plain toast" not in html


def test_home_explains_a_too_short_search(client: TestClient) -> None:
    response = client.get("/", params={"q": "ab"})
    assert response.status_code == 200
    assert "at least 3 characters" in response.text


def test_home_pages_through_recipes(client: TestClient) -> None:
    labels = [make_recipe(label=f"Paging pie {n:02d}").label for n in range(25)]

    first = client.get("/").text
    match = re.search(r'href="/\?cursor=([^"]+)" rel="next"', first)
    assert match is not None
    second = client.get(f"/?cursor={match.group(1)}").text

    assert labels[-1] in first and labels[-1] not in second
    assert labels[4] in second
    assert 'rel="first"' in second


def test_home_survives_a_bad_cursor(client: TestClient) -> None:
    make_recipe(label="Still here")
    response = client.get("/", params={"cursor": "garbage"})
    assert response.status_code == 400
    assert "Still here" in response.text
    assert "not valid" in response.text
