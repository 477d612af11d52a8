"""The ideas route through a dependency override: sign-in, query validation, OpenAPI, values."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

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


def reddit_on_mock_transport(seen: list[httpx2.Request]) -> RedditClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        name = request.url.path.split("/")[2]
        return httpx2.Response(200, content=LISTINGS[name])

    settings = RedditSettings(_env_file=None, reddit_base_url="http://reddit.test")
    return RedditClient.from_settings(settings, transport=httpx2.MockTransport(handler))


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
    seen: list[httpx2.Request] = []
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


def test_the_direct_route_answers_as_the_fastapi_route(session: Session) -> None:
    """GET /api/v1/ideas/ is also a direct route (shared/direct.py): with and without it, the
    same requests get the same status, body and headers, and plainly valid ones are answered
    by it."""
    from main import create_app
    from shared.database import get_session
    from shared.direct import DirectRoute

    user = make_user()
    apps = [create_app(), create_app(direct_routes=False)]
    answered_by: list[object] = []
    direct_stack = apps[0].build_middleware_stack()

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        await direct_stack(scope, receive, send)
        answered_by.append(scope.get("route"))

    apps[0].middleware_stack = recording
    reddit = reddit_on_mock_transport([])
    for app in apps:
        app.dependency_overrides[get_session] = lambda: session
        app.dependency_overrides[get_ideas_service] = lambda: IdeasService(
            source=reddit,
            store=MemoryStore(),
            flights=SingleFlight[SubredditOutcome](),
            subreddits=["recipes", "easyrecipes"],
            timeout_seconds=5,
            cache_ttl_seconds=300,
        )
    with TestClient(apps[0]) as direct, TestClient(apps[1]) as plain:
        token = bearer(login(direct, user.email))
        cases = [
            (IDEAS, token, True),
            (IDEAS + "?t=all&limit=2", token, True),
            (IDEAS + "?limit=25&t=hour", token, True),
            (IDEAS, {}, True),
            (IDEAS, {"Authorization": "Bearer not-a-token"}, True),
            (IDEAS + "?t=decade", token, False),
            (IDEAS + "?limit=0", token, False),
            (IDEAS + "?limit=26", token, False),
            (IDEAS + "?limit=five", token, False),
            (IDEAS + "?t=decade", {}, False),
        ]
        for url, headers, is_direct in cases:
            ours, theirs = direct.get(url, headers=headers), plain.get(url, headers=headers)
            assert (ours.status_code, ours.content) == (theirs.status_code, theirs.content), url
            skip = {"x-request-id", "x-process-time", "date"}
            assert {k: v for k, v in ours.headers.items() if k not in skip} == {
                k: v for k, v in theirs.headers.items() if k not in skip
            }, url
            assert isinstance(answered_by[-1], DirectRoute) is is_direct, url
        direct.portal.call(reddit.aclose)  # type: ignore[union-attr]
