"""The ideas feature's dependency: the service, over the shared Reddit client and store.

It is `async def`: FastAPI runs a plain `def` dependency in the threadpool, a cost paid on
every request for no gain here (nothing in it blocks). It takes the client and the store from
the application's state itself rather than through sub-dependencies: each dependency FastAPI
solves costs about as much, on every request, as reading the warm cache.

Tests and other environments replace the service with `app.dependency_overrides` (for
example one whose client is on a mock transport, or with a fake source).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

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


async def get_ideas_service(request: Request) -> IdeasService:
    # Settings too are read here rather than injected; tests change them through the
    # environment.
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


IdeasServiceDep = Annotated[IdeasService, Depends(get_ideas_service)]
