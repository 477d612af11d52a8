"""The ideas feature's dependencies: its settings, the shared Reddit client, the service.

Each is a `Depends`, so tests and other environments replace any of them with
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


def get_reddit_client(request: Request) -> RedditClient:
    return cast(RedditClient, request.app.state.reddit_client)


def get_reddit_flights(request: Request) -> SingleFlight[SubredditOutcome]:
    return cast(SingleFlight[SubredditOutcome], request.app.state.reddit_flights)


RedditSettingsDep = Annotated[RedditSettings, Depends(get_reddit_settings)]
RedditClientDep = Annotated[RedditClient, Depends(get_reddit_client)]


def get_ideas_service(
    settings: RedditSettingsDep,
    client: RedditClientDep,
    store: StoreDep,
    flights: Annotated[SingleFlight[SubredditOutcome], Depends(get_reddit_flights)],
) -> IdeasService:
    return IdeasService(
        source=client,
        store=store,
        flights=flights,
        subreddits=settings.reddit_subreddits,
        timeout_seconds=settings.reddit_timeout_seconds,
        cache_ttl_seconds=settings.reddit_cache_ttl_seconds,
    )


IdeasServiceDep = Annotated[IdeasService, Depends(get_ideas_service)]
