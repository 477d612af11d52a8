"""GET /api/v1/ideas/ against a real (fake) Reddit over loopback HTTP.

Concurrency is asserted on the fake's own record of overlapping requests, not on wall time alone.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import pytest

from reddit.service import cache_key
from tests.reddit.conftest import SUBREDDITS, LarderFactory
from tests.reddit.fake_reddit import FakeReddit
from tests.redis_support import TEST_REDIS_URL, delete_prefix, require_redis, unique_prefix

pytestmark = pytest.mark.anyio

IDEAS = "/api/v1/ideas/"


def expected_posts(subreddit: str, count: int) -> list[dict[str, Any]]:
    slug = subreddit.lower()
    return [
        {
            "title": f"{subreddit} idea {n}",
            "score": 1000 - n,
            "url": f"https://i.redd.it/{slug}{n}.jpg",
            "permalink": f"https://www.reddit.com/r/{subreddit}/comments/{slug}{n}/{slug}{n}/",
        }
        for n in range(count)
    ]


async def test_every_subreddit_is_served_with_the_real_values(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    async with larder() as client:
        response = await client.get(IDEAS, params={"t": "month", "limit": 3})
    assert response.status_code == 200
    assert response.json() == {
        "results": {name: expected_posts(name, 3) for name in SUBREDDITS},
        "errors": {},
    }
    assert response.headers["cache-control"] == "no-store"
    for request in fake_reddit.requests:
        assert request.params == {"t": "month", "limit": "3", "raw_json": "1"}
        assert request.user_agent.startswith("python:larder:")


async def test_slow_subreddits_are_fetched_at_once_not_one_after_another(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    fake_reddit.behave_all(delay=0.3)
    async with larder() as client:
        started = time.monotonic()
        response = await client.get(IDEAS)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert set(response.json()["results"]) == set(SUBREDDITS)
    # The upstream's own record is the proof that the three were in flight at once. The clock
    # only confirms the answer did not take the serial path (3 x 300 ms): a bound near one
    # delay (it is about 0.35 s on a quiet machine) would time the machine CI shares, and the
    # bench holds the cold-cache latency to 1.3x one subreddit's delay.
    assert fake_reddit.max_overlap() == 3
    assert elapsed < 0.85


async def test_one_failing_subreddit_is_reported_and_the_others_served(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    fake_reddit.behave("easyrecipes", status=503)
    async with larder() as client:
        response = await client.get(IDEAS)
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == {"easyrecipes": "upstream status 503"}
    assert body["results"] == {
        "recipes": expected_posts("recipes", 5),
        "TopSecretRecipes": expected_posts("TopSecretRecipes", 5),
    }


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ({"status": 429}, "upstream status 429"),
        (
            {"status": 302, "headers": {"Location": "/r/elsewhere/top.json"}},
            "upstream redirect 302",
        ),
        ({"body": b"<html>maintenance</html>"}, "invalid response"),
        ({"body": b'{"kind": "Listing", "data": {"children": 7}}'}, "invalid response"),
        ({"body": b"[" + b" " * (3 * 1024 * 1024) + b"]"}, "response too large"),
    ],
    ids=["429", "redirect", "html", "wrong-shape", "too-large"],
)
async def test_a_misbehaving_subreddit_is_an_error_entry_never_a_500(
    larder: LarderFactory, fake_reddit: FakeReddit, behaviour: dict[str, Any], reason: str
) -> None:
    fake_reddit.behave("recipes", **behaviour)
    async with larder() as client:
        response = await client.get(IDEAS)
    assert response.status_code == 200
    assert response.json()["errors"] == {"recipes": reason}
    assert fake_reddit.calls("elsewhere") == 0


async def test_a_subreddit_slower_than_the_timeout_times_out_alone(
    larder: LarderFactory, fake_reddit: FakeReddit, reddit_env: pytest.MonkeyPatch
) -> None:
    reddit_env.setenv("REDDIT_TIMEOUT_SECONDS", "0.3")
    fake_reddit.behave("TopSecretRecipes", delay=1.5)
    async with larder() as client:
        started = time.monotonic()
        response = await client.get(IDEAS)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["errors"] == {"TopSecretRecipes": "timeout"}
    assert set(response.json()["results"]) == {"recipes", "easyrecipes"}
    assert elapsed < 1.0


async def test_all_subreddits_failing_is_502(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    fake_reddit.behave_all(status=500)
    async with larder() as client:
        response = await client.get(IDEAS)
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert detail.startswith("Reddit could not be reached")
    for name in SUBREDDITS:
        assert f"{name}: upstream status 500" in detail


async def test_a_second_request_within_the_ttl_makes_no_upstream_call(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    async with larder() as client:
        first = await client.get(IDEAS)
        second = await client.get(IDEAS)
    assert first.json() == second.json()
    assert len(fake_reddit.requests) == 3
    assert all(fake_reddit.calls(name) == 1 for name in SUBREDDITS)


async def test_other_t_and_limit_values_are_cached_separately(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    async with larder() as client:
        await client.get(IDEAS, params={"t": "week", "limit": 5})
        await client.get(IDEAS, params={"t": "day", "limit": 5})
        await client.get(IDEAS, params={"t": "day", "limit": 2})
        await client.get(IDEAS, params={"t": "day", "limit": 2})
    assert len(fake_reddit.requests) == 9


async def test_the_cache_expires_after_its_ttl(
    larder: LarderFactory, fake_reddit: FakeReddit, reddit_env: pytest.MonkeyPatch
) -> None:
    reddit_env.setenv("REDDIT_CACHE_TTL_SECONDS", "0.3")
    async with larder() as client:
        await client.get(IDEAS)
        await asyncio.sleep(0.4)
        await client.get(IDEAS)
    assert all(fake_reddit.calls(name) == 2 for name in SUBREDDITS)


async def test_failures_are_not_cached(larder: LarderFactory, fake_reddit: FakeReddit) -> None:
    fake_reddit.behave("recipes", status=503)
    async with larder() as client:
        assert (await client.get(IDEAS)).json()["errors"] == {"recipes": "upstream status 503"}
        fake_reddit.behave("recipes")
        again = await client.get(IDEAS)
    assert again.json()["errors"] == {}
    assert again.json()["results"]["recipes"] == expected_posts("recipes", 5)
    assert fake_reddit.calls("recipes") == 2
    assert fake_reddit.calls("easyrecipes") == 1


async def test_an_unreadable_cache_entry_is_fetched_again_and_the_rest_served_from_cache(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    async with larder() as client:
        first = await client.get(IDEAS)
        transport = client._transport
        assert isinstance(transport, httpx2.ASGITransport)
        store = transport.app.state.store  # type: ignore[attr-defined]
        await store.set(cache_key("easyrecipes", t="week", limit=5), b'{"not": "posts"}', 300)
        again = await client.get(IDEAS)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert {name: fake_reddit.calls(name) for name in SUBREDDITS} == {
        "recipes": 1,
        "easyrecipes": 2,
        "TopSecretRecipes": 1,
    }


async def test_concurrent_requests_on_a_cold_cache_share_one_upstream_call(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    fake_reddit.behave_all(delay=0.2)
    async with larder() as client:
        responses = await asyncio.gather(*(client.get(IDEAS) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    assert all(r.json() == responses[0].json() for r in responses)
    assert {name: fake_reddit.calls(name) for name in SUBREDDITS} == dict.fromkeys(SUBREDDITS, 1)


async def test_concurrent_requests_share_a_failure_too(
    larder: LarderFactory, fake_reddit: FakeReddit
) -> None:
    fake_reddit.behave("recipes", delay=0.2, status=500)
    async with larder() as client:
        responses = await asyncio.gather(*(client.get(IDEAS) for _ in range(10)))
    assert all(r.json()["errors"] == {"recipes": "upstream status 500"} for r in responses)
    assert fake_reddit.calls("recipes") == 1


async def test_the_redis_cache_is_shared_between_two_instances(
    larder: LarderFactory, fake_reddit: FakeReddit, reddit_env: pytest.MonkeyPatch
) -> None:
    await require_redis()
    prefix = unique_prefix()
    reddit_env.setenv("REDIS_URL", TEST_REDIS_URL)
    reddit_env.setenv("REDIS_KEY_PREFIX", prefix)
    try:
        async with larder() as first, larder() as second:
            from_first = await first.get(IDEAS, params={"t": "year"})
            from_second = await second.get(IDEAS, params={"t": "year"})
    finally:
        await delete_prefix(prefix)
    assert from_first.status_code == from_second.status_code == 200
    assert from_first.json() == from_second.json()
    assert len(fake_reddit.requests) == 3


async def test_a_cache_that_is_down_costs_speed_not_answers(
    larder: LarderFactory, fake_reddit: FakeReddit, reddit_env: pytest.MonkeyPatch
) -> None:
    reddit_env.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    async with larder() as client:
        response = await client.get(IDEAS)
    assert response.status_code == 200
    assert response.json()["errors"] == {}


async def test_an_unreachable_reddit_is_502_promptly(
    larder: LarderFactory, reddit_env: pytest.MonkeyPatch
) -> None:
    reddit_env.setenv("REDDIT_BASE_URL", "http://127.0.0.1:9")
    async with larder() as client:
        response = await client.get(IDEAS)
    assert response.status_code == 502
    assert "connection failed" in response.json()["detail"]


async def test_larder_closes_its_reddit_client_at_shutdown(larder: LarderFactory) -> None:
    async with larder() as client:
        transport = client._transport
        assert isinstance(transport, httpx2.ASGITransport)
        reddit_client = transport.app.state.reddit_client  # type: ignore[attr-defined]
        http = reddit_client._http
        assert not http.is_closed
    assert http.is_closed
