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

from pydantic import TypeAdapter

from reddit.client import RedditError
from reddit.schemas import RedditPost, TimeFilter
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
    """One subreddit's posts as a JSON array (as cached), or why there are none."""

    posts_json: bytes | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Ideas:
    """Every configured subreddit, in either `results` (JSON arrays of posts) or `errors`."""

    results: dict[str, bytes]
    errors: dict[str, str]


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

    async def top_posts(self, *, t: TimeFilter, limit: int) -> Ideas:
        """Top posts of every subreddit; RedditUnavailable (502) when none could be fetched."""
        keys = [cache_key(name, t=t, limit=limit) for name in self.subreddits]
        # Every subreddit's cache entry in one store read (one round trip to Redis), without
        # tasks: on a warm cache that is the whole request.
        outcomes = [SubredditOutcome(posts_json=cached) for cached in await self._cached_all(keys)]
        misses = [i for i, outcome in enumerate(outcomes) if outcome.posts_json is None]
        if misses:
            fetched = await asyncio.gather(
                *(self._fetch_shared(self.subreddits[i], keys[i], t=t, limit=limit) for i in misses)
            )
            for i, outcome in zip(misses, fetched, strict=True):
                outcomes[i] = outcome
        results: dict[str, bytes] = {}
        errors: dict[str, str] = {}
        for name, outcome in zip(self.subreddits, outcomes, strict=True):
            if outcome.posts_json is not None:
                results[name] = outcome.posts_json
            else:
                errors[name] = outcome.error or "unknown error"
        if not results:
            raise RedditUnavailable(errors)
        return Ideas(results=results, errors=errors)

    async def _fetch_shared(
        self, name: str, key: str, *, t: TimeFilter, limit: int
    ) -> SubredditOutcome:
        return await self.flights.run(key, lambda: self._fetch(name, key, t=t, limit=limit))

    async def _fetch(self, name: str, key: str, *, t: TimeFilter, limit: int) -> SubredditOutcome:
        # Another flight may have filled the cache between our miss and this flight's start.
        cached = await self._cached(key)
        if cached is not None:
            return SubredditOutcome(posts_json=cached)
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
        posts_json = _posts_json.dump_json(posts)
        await self._remember(key, posts_json)
        return SubredditOutcome(posts_json=posts_json)

    async def _cached(self, key: str) -> bytes | None:
        return (await self._cached_all([key]))[0]

    async def _cached_all(self, keys: list[str]) -> list[bytes | None]:
        """The cached JSON arrays of posts, served as stored (None for a miss).

        Entries are only ever written by `_fetch` from validated posts, so the hot path does
        not parse them again; something that is not a JSON array at all is ignored.
        """
        try:
            raws = await self.store.get_many(keys)
        except StoreUnavailable as exc:
            # A cache that is down costs speed, not answers.
            logger.warning("cache unavailable, reading %s: %s", ", ".join(keys), exc)
            return [None] * len(keys)
        for i, raw in enumerate(raws):
            if raw is not None and not (raw.startswith(b"[") and raw.endswith(b"]")):
                logger.warning("discarding an unreadable cache entry %s", keys[i])
                raws[i] = None
        return raws

    async def _remember(self, key: str, posts_json: bytes) -> None:
        try:
            await self.store.set(key, posts_json, self.cache_ttl_seconds)
        except StoreUnavailable as exc:
            logger.warning("cache unavailable, writing %s: %s", key, exc)
