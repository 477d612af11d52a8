"""The Reddit client on httpx2.MockTransport: requests, parsing, and every way upstream fails."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest

from reddit.client import RedditClient, RedditError, parse_listing
from reddit.settings import RedditSettings
from tests.reddit.listings import listing, listing_bytes, post, posts_for

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], httpx2.Response]


def make_client(handler: Handler, **settings: object) -> RedditClient:
    reddit_settings = RedditSettings(
        _env_file=None,
        reddit_base_url="http://reddit.test",
        **settings,  # type: ignore[arg-type]
    )
    return RedditClient.from_settings(reddit_settings, transport=httpx2.MockTransport(handler))


async def fetch(handler: Handler, **settings: object) -> list[object]:
    async with make_client(handler, **settings) as client:
        return list(await client.top_posts("recipes", t="week", limit=5))


async def reason_for(handler: Handler, **settings: object) -> str:
    with pytest.raises(RedditError) as caught:
        await fetch(handler, **settings)
    return caught.value.reason


async def test_it_asks_for_the_top_listing_with_its_user_agent() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=posts_for("recipes", 2))

    async with make_client(handler) as client:
        await client.top_posts("TopSecretRecipes", t="month", limit=7)
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/r/TopSecretRecipes/top.json"
    assert request.url.params["t"] == "month"
    assert request.url.params["limit"] == "7"
    assert request.url.params["raw_json"] == "1"
    assert request.headers["user-agent"].startswith("python:larder:")
    assert request.headers["accept"] == "application/json"


async def test_a_listing_becomes_typed_posts() -> None:
    body = listing_bytes(
        post("Chicken Vesuvio", 4242, slug="abc123"),
        post("Sourdough & rye", 17, slug="def456"),
    )
    async with make_client(lambda _: httpx2.Response(200, content=body)) as client:
        posts = await client.top_posts("recipes", t="week", limit=5)
    assert [p.model_dump() for p in posts] == [
        {
            "title": "Chicken Vesuvio",
            "score": 4242,
            "url": "https://i.redd.it/abc123.jpg",
            "permalink": "https://www.reddit.com/r/recipes/comments/abc123/abc123/",
        },
        {
            "title": "Sourdough & rye",
            "score": 17,
            "url": "https://i.redd.it/def456.jpg",
            "permalink": "https://www.reddit.com/r/recipes/comments/def456/def456/",
        },
    ]


def test_no_more_posts_than_the_limit_are_returned() -> None:
    assert len(parse_listing(posts_for("recipes", 10), limit=3)) == 3


def test_odd_posts_are_skipped_and_the_rest_served() -> None:
    unsafe = post("Click me", 5)
    unsafe["data"]["url"] = "javascript:alert(1)"
    missing_score = post("No score", 1)
    del missing_score["data"]["score"]
    comment = {"kind": "t1", "data": {"body": "not a post"}}
    body = listing_bytes(unsafe, missing_score, comment, post("Good one", 9))
    assert [p.title for p in parse_listing(body, limit=5)] == ["Good one"]


def test_an_empty_listing_is_no_posts() -> None:
    assert parse_listing(listing_bytes(), limit=5) == []


@pytest.mark.parametrize(
    "body",
    [
        b"<html>we are down</html>",
        b"",
        b'{"kind": "Listing", "data": {"children": [',
        json.dumps([1, 2, 3]).encode(),
        json.dumps({"kind": "Listing"}).encode(),
        json.dumps({"kind": "t5", "data": {"children": []}}).encode(),
        json.dumps({"kind": "Listing", "data": {"children": {"not": "a list"}}}).encode(),
        json.dumps(listing({"kind": "t3", "data": {"title": 1}})).encode(),
        b"\xff\xfe not utf-8",
    ],
    ids=[
        "html",
        "empty",
        "truncated",
        "array",
        "no-data",
        "wrong-kind",
        "children-not-list",
        "no-usable-post",
        "bad-bytes",
    ],
)
async def test_malformed_or_unexpected_bodies_are_invalid_responses(body: bytes) -> None:
    assert await reason_for(lambda _: httpx2.Response(200, content=body)) == "invalid response"


@pytest.mark.parametrize("status", [429, 500, 503, 404, 403])
async def test_error_statuses_name_the_status(status: int) -> None:
    reason = await reason_for(lambda _: httpx2.Response(status, json={"message": "nope"}))
    assert reason == f"upstream status {status}"


async def test_a_redirect_is_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        if request.url.path == "/elsewhere":
            return httpx2.Response(200, content=posts_for("elsewhere", 1))
        return httpx2.Response(302, headers={"Location": "http://reddit.test/elsewhere"})

    assert await reason_for(handler) == "upstream redirect 302"
    assert calls == ["/r/recipes/top.json"]


async def test_a_declared_body_over_the_cap_is_refused_unread() -> None:
    body = posts_for("recipes", 25)
    reason = await reason_for(
        lambda _: httpx2.Response(200, content=body), reddit_max_response_bytes=len(body) - 1
    )
    assert reason == "response too large"


async def test_a_streamed_body_over_the_cap_is_refused() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b'{"kind": "Listing", "data": {"children": ['
        for _ in range(1000):
            yield b" " * 1024

    def handler(_: httpx2.Request) -> httpx2.Response:
        response = httpx2.Response(200, content=endless())
        assert "content-length" not in response.headers
        return response

    assert await reason_for(handler, reddit_max_response_bytes=64 * 1024) == "response too large"


async def test_a_compressed_body_is_capped_after_decompression() -> None:
    bomb = gzip.compress(b" " * (1024 * 1024))
    assert len(bomb) < 64 * 1024

    def handler(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    assert await reason_for(handler, reddit_max_response_bytes=64 * 1024) == "response too large"


async def test_a_body_at_the_cap_is_accepted() -> None:
    body = posts_for("recipes", 3)
    posts = await fetch(
        lambda _: httpx2.Response(200, content=body), reddit_max_response_bytes=len(body)
    )
    assert len(posts) == 3


async def test_a_timeout_is_reported_as_timeout() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    assert await reason_for(handler) == "timeout"


async def test_a_refused_connection_is_reported() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    assert await reason_for(handler) == "connection failed"
