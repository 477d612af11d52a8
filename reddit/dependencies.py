"""The ideas feature's dependencies: the shared Reddit client and the service.

Both are `async def`: FastAPI runs a plain `def` dependency in the threadpool, a cost paid on
every request for no gain here (none of them blocks).

Each is a `Depends`, so tests and other environments replace either with
`app.dependency_overrides` (a client on a mock transport, a service with a fake source).
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
from shared.stores import StoreDep


@asynccontextmanager
async def open_reddit(app: FastAPI, settings: RedditSettings) -> AsyncIterator[RedditClient]:
    """The feature's shared resources for the application's lifetime, on `app.state`."""
    async with RedditClient.from_settings(settings) as client:
        app.state.reddit_client = client
        # Shared by all requests, so concurrent ones for one key make one upstream call.
        app.state.reddit_flights = SingleFlight[SubredditOutcome]()
        yield client


async def get_reddit_client(request: Request) -> RedditClient:
    return cast(RedditClient, request.app.state.reddit_client)


RedditClientDep = Annotated[RedditClient, Depends(get_reddit_client)]


async def get_ideas_service(
    request: Request, client: RedditClientDep, store: StoreDep
) -> IdeasService:
    # Settings and the single-flight registry are read here rather than injected: each extra
    # dependency is paid on every request, and tests change settings through the environment.
    settings = get_reddit_settings()
    return IdeasService(
        source=client,
        store=store,
        flights=cast(SingleFlight[SubredditOutcome], request.app.state.reddit_flights),
        subreddits=settings.reddit_subreddits,
        timeout_seconds=settings.reddit_timeout_seconds,
        cache_ttl_seconds=settings.reddit_cache_ttl_seconds,
    )


IdeasServiceDep = Annotated[IdeasService, Depends(get_ideas_service)]
