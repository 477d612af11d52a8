"""Ideas from Reddit: every configured subreddit at once, cached, one upstream call per key.

For each subreddit the service reads the cache (the application's store: in-process, or Redis
when `REDIS_URL` is set), and on a miss fetches through single-flight, so concurrent requests for
the same (subreddit, t, limit) wait for one upstream call, which fills the cache. Subreddits are
fetched concurrently, each within its own time budget; one that fails lands in `errors` and the
others are served. Failures are not cached: the next request tries again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from pydantic import TypeAdapter, ValidationError

from reddit.client import RedditError
from reddit.schemas import IdeasResponse, RedditPost, TimeFilter
from shared.errors import LarderError
from shared.singleflight import SingleFlight
from shared.stores import Store, StoreUnavailable

logger = logging.getLogger("larder.reddit")

_posts_json = TypeAdapter(list[RedditPost])


class TopPostsSource(Protocol):
    """What the service needs from a Reddit client (RedditClient, or a test's stand-in)."""

    async def top_posts(self, subreddit: str, *, t: TimeFilter, limit: int) -> list[RedditPost]: ...


class RedditUnavailable(LarderError):
    status_code = 502

    def __init__(self, errors: dict[str, str]) -> None:
        reasons = ", ".join(f"{name}: {reason}" for name, reason in errors.items())
        super().__init__(f"Reddit could not be reached ({reasons})")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class SubredditOutcome:
    posts: list[RedditPost] | None = None
    error: str | None = None


def cache_key(subreddit: str, *, t: TimeFilter, limit: int) -> str:
    return f"reddit:top:{subreddit.lower()}:{t}:{limit}"


class IdeasService:
    def __init__(
        self,
        *,
        source: TopPostsSource,
        store: Store,
        flights: SingleFlight[SubredditOutcome],
        subreddits: list[str],
        timeout_seconds: float,
        cache_ttl_seconds: float,
    ) -> None:
        self.source = source
        self.store = store
        self.flights = flights
        self.subreddits = subreddits
        self.timeout_seconds = timeout_seconds
        self.cache_ttl_seconds = cache_ttl_seconds

    async def top_posts(self, *, t: TimeFilter, limit: int) -> IdeasResponse:
        """Top posts of every subreddit; RedditUnavailable (502) when none could be fetched."""
        outcomes = await asyncio.gather(
            *(self._subreddit(name, t=t, limit=limit) for name in self.subreddits)
        )
        results: dict[str, list[RedditPost]] = {}
        errors: dict[str, str] = {}
        for name, outcome in zip(self.subreddits, outcomes, strict=True):
            if outcome.posts is not None:
                results[name] = outcome.posts
            else:
                errors[name] = outcome.error or "unknown error"
        if not results:
            raise RedditUnavailable(errors)
        return IdeasResponse(results=results, errors=errors)

    async def _subreddit(self, name: str, *, t: TimeFilter, limit: int) -> SubredditOutcome:
        key = cache_key(name, t=t, limit=limit)
        cached = await self._cached(key)
        if cached is not None:
            return SubredditOutcome(posts=cached)
        return await self.flights.run(key, lambda: self._fetch(name, key, t=t, limit=limit))

    async def _fetch(self, name: str, key: str, *, t: TimeFilter, limit: int) -> SubredditOutcome:
        # Another flight may have filled the cache between our miss and this flight's start.
        cached = await self._cached(key)
        if cached is not None:
            return SubredditOutcome(posts=cached)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                posts = await self.source.top_posts(name, t=t, limit=limit)
        except TimeoutError:
            return SubredditOutcome(error="timeout")
        except RedditError as exc:
            return SubredditOutcome(error=exc.reason)
        except Exception:
            logger.exception("unexpected error fetching r/%s", name)
            return SubredditOutcome(error="unexpected error")
        await self._remember(key, posts)
        return SubredditOutcome(posts=posts)

    async def _cached(self, key: str) -> list[RedditPost] | None:
        try:
            raw = await self.store.get(key)
        except StoreUnavailable as exc:
            # A cache that is down costs speed, not answers.
            logger.warning("cache unavailable, reading %s: %s", key, exc)
            return None
        if raw is None:
            return None
        try:
            return _posts_json.validate_json(raw)
        except ValidationError:
            logger.warning("discarding an unreadable cache entry %s", key)
            return None

    async def _remember(self, key: str, posts: list[RedditPost]) -> None:
        try:
            await self.store.set(key, _posts_json.dump_json(posts), self.cache_ttl_seconds)
        except StoreUnavailable as exc:
            logger.warning("cache unavailable, writing %s: %s", key, exc)
