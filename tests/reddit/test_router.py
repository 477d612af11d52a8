"""The ideas route through a dependency override: sign-in, query validation, OpenAPI, values."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reddit.client import RedditClient
from reddit.dependencies import get_ideas_service
from reddit.service import IdeasService, SubredditOutcome
from reddit.settings import RedditSettings
from shared.singleflight import SingleFlight
from shared.stores import MemoryStore
from tests.factories import make_user
from tests.helpers import bearer, login
from tests.reddit.listings import listing_bytes, post

IDEAS = "/api/v1/ideas/"

# What each subreddit answers through the mock transport: Reddit's listing shape.
LISTINGS = {
    "recipes": listing_bytes(
        post("Chicken Vesuvio", 4242, slug="abc1", subreddit="recipes"),
        post("Beef stew for a cold night", 1200, slug="abc2", subreddit="recipes"),
    ),
    "easyrecipes": listing_bytes(
        post("Three-ingredient pancakes", 980, slug="ez1", subreddit="easyrecipes")
    ),
    "TopSecretRecipes": listing_bytes(),
}


def reddit_on_mock_transport(seen: list[httpx.Request]) -> RedditClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        name = request.url.path.split("/")[2]
        return httpx.Response(200, content=LISTINGS[name])

    settings = RedditSettings(_env_file=None, reddit_base_url="http://reddit.test")
    return RedditClient.from_settings(settings, transport=httpx.MockTransport(handler))


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    """The test client, sending a real access token of a new user."""
    user = make_user()
    client.headers.update(bearer(login(client, user.email)))
    return client


def test_ideas_need_a_signed_in_user(client: TestClient) -> None:
    response = client.get(IDEAS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated"}


def test_an_overridden_service_serves_per_subreddit_values(
    app: FastAPI, signed_in: TestClient
) -> None:
    seen: list[httpx.Request] = []
    reddit = reddit_on_mock_transport(seen)
    app.dependency_overrides[get_ideas_service] = lambda: IdeasService(
        source=reddit,
        store=MemoryStore(),
        flights=SingleFlight[SubredditOutcome](),
        subreddits=["recipes", "easyrecipes", "TopSecretRecipes"],
        timeout_seconds=5,
        cache_ttl_seconds=300,
    )
    response = signed_in.get(IDEAS, params={"t": "all", "limit": 2})
    signed_in.portal.call(reddit.aclose)  # type: ignore[union-attr]
    assert response.status_code == 200
    assert response.json() == {
        "results": {
            "recipes": [
                {
                    "title": "Chicken Vesuvio",
                    "score": 4242,
                    "url": "https://i.redd.it/abc1.jpg",
                    "permalink": "https://www.reddit.com/r/recipes/comments/abc1/abc1/",
                },
                {
                    "title": "Beef stew for a cold night",
                    "score": 1200,
                    "url": "https://i.redd.it/abc2.jpg",
                    "permalink": "https://www.reddit.com/r/recipes/comments/abc2/abc2/",
                },
            ],
            "easyrecipes": [
                {
                    "title": "Three-ingredient pancakes",
                    "score": 980,
                    "url": "https://i.redd.it/ez1.jpg",
                    "permalink": "https://www.reddit.com/r/easyrecipes/comments/ez1/ez1/",
                }
            ],
            "TopSecretRecipes": [],
        },
        "errors": {},
    }
    assert sorted(r.url.path for r in seen) == [
        "/r/TopSecretRecipes/top.json",
        "/r/easyrecipes/top.json",
        "/r/recipes/top.json",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"t": "decade"},
        {"t": ""},
        {"limit": 0},
        {"limit": 26},
        {"limit": "five"},
    ],
)
def test_out_of_range_query_values_are_422(signed_in: TestClient, params: dict[str, str]) -> None:
    response = signed_in.get(IDEAS, params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_the_route_documents_its_answers(client: TestClient) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"][IDEAS]["get"]
    assert {"200", "401", "422", "502"} <= set(operation["responses"])
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["t"]["schema"]["enum"] == ["hour", "day", "week", "month", "year", "all"]
    assert params["limit"]["schema"]["maximum"] == 25
