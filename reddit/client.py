"""The one HTTP client Larder uses to read Reddit, and the parsing of Reddit's listings.

One `httpx2.AsyncClient` is opened at start-up and shared by every request, so connections (and
their TLS sessions) are reused. Whatever goes wrong with one subreddit's answer (status, redirect,
size, timeout, shape) becomes a `RedditError` with a short reason the API can show; it never
escapes as a 500.
"""

from __future__ import annotations

import json
import logging
from types import TracebackType
from typing import Any, Literal

import httpx2
from pydantic import BaseModel, ValidationError

from reddit.schemas import RedditPost, TimeFilter
from reddit.settings import RedditSettings

logger = logging.getLogger("larder.reddit")

# Permalinks in listings are site-relative; they are returned as links to Reddit's own site,
# wherever REDDIT_BASE_URL points (a proxy or a test double), since that is where people read.
REDDIT_SITE = "https://www.reddit.com"


class RedditError(Exception):
    """One subreddit could not be fetched; `reason` is short and safe to show to clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PostData(BaseModel):
    title: str
    score: int
    url: str
    permalink: str


class _Child(BaseModel):
    kind: str
    data: dict[str, Any]


class _ListingData(BaseModel):
    children: list[_Child]


class _Listing(BaseModel):
    kind: Literal["Listing"]
    data: _ListingData


def _absolute_http(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(ch.isspace() for ch in url)


def _post_from(data: dict[str, Any]) -> RedditPost | None:
    """A post from a t3 child's data, or None when it lacks what a post needs."""
    try:
        fields = _PostData.model_validate(data)
    except ValidationError:
        return None
    permalink = fields.permalink
    if permalink.startswith("/"):
        permalink = REDDIT_SITE + permalink
    # Only web links go out: a `javascript:` URL from upstream must never reach a browser.
    if not (_absolute_http(fields.url) and _absolute_http(permalink)):
        return None
    return RedditPost(title=fields.title, score=fields.score, url=fields.url, permalink=permalink)


def parse_listing(body: bytes, *, limit: int) -> list[RedditPost]:
    """The posts of a Reddit listing, at most `limit` of them.

    The envelope must be a Listing; single posts that lack a field are skipped (one odd post
    should not hide the rest), but a listing of which no post is usable is invalid.
    """
    try:
        listing = _Listing.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise RedditError("invalid response") from exc
    children = [child for child in listing.data.children if child.kind == "t3"]
    posts = [post for child in children if (post := _post_from(child.data)) is not None]
    if children and not posts:
        raise RedditError("invalid response")
    if len(posts) < len(children):
        logger.warning("skipped %d malformed posts", len(children) - len(posts))
    return posts[:limit]


class RedditClient:
    def __init__(self, http: httpx2.AsyncClient, *, max_response_bytes: int) -> None:
        self._http = http
        self.max_response_bytes = max_response_bytes

    @classmethod
    def from_settings(
        cls, settings: RedditSettings, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> RedditClient:
        http = httpx2.AsyncClient(
            base_url=settings.reddit_base_url,
            timeout=httpx2.Timeout(settings.reddit_timeout_seconds),
            limits=httpx2.Limits(
                max_connections=settings.reddit_max_connections,
                max_keepalive_connections=settings.reddit_max_connections,
            ),
            headers={"User-Agent": settings.reddit_user_agent, "Accept": "application/json"},
            follow_redirects=False,
            transport=transport,
        )
        return cls(http, max_response_bytes=settings.reddit_max_response_bytes)

    async def __aenter__(self) -> RedditClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def top_posts(self, subreddit: str, *, t: TimeFilter, limit: int) -> list[RedditPost]:
        """The subreddit's top posts for period `t`, best first; RedditError on any failure."""
        # raw_json=1: titles come unescaped ("&", not "&amp;").
        params = {"t": t, "limit": str(limit), "raw_json": "1"}
        try:
            body = await self._get(f"/r/{subreddit}/top.json", params)
        except httpx2.TimeoutException as exc:
            raise RedditError("timeout") from exc
        except httpx2.HTTPError as exc:
            logger.warning("fetching r/%s failed: %r", subreddit, exc)
            raise RedditError("connection failed") from exc
        return parse_listing(body, limit=limit)

    async def _get(self, path: str, params: dict[str, str]) -> bytes:
        async with self._http.stream("GET", path, params=params) as response:
            if response.is_redirect:
                # Reddit redirects unknown, private and banned subreddits; none of it is a listing.
                raise RedditError(f"upstream redirect {response.status_code}")
            if response.status_code != httpx2.codes.OK:
                raise RedditError(f"upstream status {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise RedditError("response too large")
            chunks: list[bytes] = []
            received = 0
            # Counted after decompression, so a small gzip bomb is refused as well.
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > self.max_response_bytes:
                    raise RedditError("response too large")
                chunks.append(chunk)
            return b"".join(chunks)
