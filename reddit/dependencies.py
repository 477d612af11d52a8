"""The ideas feature's service, over the shared Reddit client, store and single-flight registry.

The route gets it by calling `ideas_service_for(request)` rather than declaring a dependency:
FastAPI's solving of even one `async def` dependency costs, on every request, several times what
reading the warm cache does (about 100k instructions, a quarter of a whole hello-world
request). Tests and other environments still replace the service through
`app.dependency_overrides[get_ideas_service]` (for example with a client on a mock transport, or
a fake source): `ideas_service_for` honours that, as `shared.reads.reader_for` does for
`get_session`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from fastapi import FastAPI, Request

from reddit.client import RedditClient
from reddit.service import IdeasService, SubredditOutcome
from reddit.settings import RedditSettings, get_reddit_settings
from shared.singleflight import SingleFlight
from shared.stores import Store


@asynccontextmanager
async def open_reddit(app: FastAPI, settings: RedditSettings) -> AsyncIterator[RedditClient]:
    """The feature's shared resources for the application's lifetime, on `app.state`."""
    async with RedditClient.from_settings(settings) as client:
        app.state.reddit_client = client
        # Shared by all requests, so concurrent ones for one key make one upstream call.
        app.state.reddit_flights = SingleFlight[SubredditOutcome]()
        yield client


def get_ideas_service(request: Request) -> IdeasService:
    # Settings are read here rather than injected; tests change them through the environment.
    settings = get_reddit_settings()
    state = request.app.state
    return IdeasService(
        source=cast(RedditClient, state.reddit_client),
        store=cast(Store, state.store),
        flights=cast(SingleFlight[SubredditOutcome], state.reddit_flights),
        subreddits=settings.reddit_subreddits,
        timeout_seconds=settings.reddit_timeout_seconds,
        cache_ttl_seconds=settings.reddit_cache_ttl_seconds,
    )


def ideas_service_for(request: Request) -> IdeasService:
    """The service for this request, or what overrides `get_ideas_service` (called without
    arguments)."""
    override = request.app.dependency_overrides.get(get_ideas_service)
    if override is not None:
        return cast(IdeasService, override())
    return get_ideas_service(request)
