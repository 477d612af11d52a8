"""Ideas routes under /api/v1/ideas."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, cast, get_args

from fastapi import APIRouter, Query, Request, Response, status

from auth.dependencies import SignedIn, signed_in
from reddit.dependencies import ideas_service_for
from reddit.schemas import MAX_LIMIT, IdeasResponse, TimeFilter
from reddit.service import Ideas
from shared.direct import DirectRoute, plain_int, query_params

router = APIRouter(prefix="/ideas", tags=["ideas"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {
        "description": "No valid bearer token.",
        "content": {"application/json": {"example": {"detail": "Not authenticated"}}},
    },
    status.HTTP_422_UNPROCESSABLE_CONTENT: {
        "description": "`t` or `limit` is out of range.",
    },
    status.HTTP_502_BAD_GATEWAY: {
        "description": "No subreddit could be fetched.",
        "content": {
            "application/json": {
                "example": {"detail": "Reddit could not be reached (recipes: timeout)"}
            }
        },
    },
}


@router.get(
    "/",
    response_model=IdeasResponse,
    summary="Top posts of the recipe subreddits",
    responses=RESPONSES,
)
async def list_ideas(
    _caller: SignedIn,
    request: Request,
    t: Annotated[TimeFilter, Query(description="The period to rank posts over.")] = "week",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Posts per subreddit (1-25).")] = 5,
) -> Response:
    """Each configured subreddit's top posts, fetched concurrently and cached.

    A subreddit that fails or times out is listed in `errors` with a short reason; the others
    are still served. When every subreddit fails the answer is 502.
    """
    return render(await ideas_service_for(request).top_posts(t=t, limit=limit))


def render(ideas: Ideas) -> Response:
    """The IdeasResponse body, spliced from the cached JSON arrays of posts.

    Posts were validated when they came from Reddit and are cached as JSON; parsing them and
    serialising them again on every request would cost more than the rest of the route.
    """
    results = b",".join(
        json.dumps(name).encode() + b":" + posts for name, posts in ideas.results.items()
    )
    body = b'{"results":{%s},"errors":%s}' % (results, json.dumps(ideas.errors).encode())
    return Response(body, media_type="application/json")


_TIME_FILTERS = frozenset(get_args(TimeFilter))


async def _list_ideas_direct(request: Request, _match: re.Match[str]) -> Response | None:
    """The feed as a direct route (shared/direct.py): the same sign-in check and service as
    `list_ideas`, without FastAPI's dependency solving and query validation around a warm-cache
    read that costs less than they do. Anything not plainly valid, and an overridden sign-in
    check, is left to `list_ideas`."""
    params = query_params(request.scope)
    t = params.get("t", "week")
    limit = plain_int(params.get("limit", "5"), low=1, high=MAX_LIMIT)
    if t not in _TIME_FILTERS or limit is None or signed_in in request.app.dependency_overrides:
        return None
    await signed_in(request)
    period = cast(TimeFilter, t)  # one of TimeFilter's values, checked above
    return render(await ideas_service_for(request).top_posts(t=period, limit=limit))


def direct_routes(prefix: str) -> list[DirectRoute]:
    """The feed as a direct route, for an app that includes `router` under `prefix`."""
    path = prefix + router.prefix + "/"
    return [DirectRoute("GET", re.compile(re.escape(path)), path, _list_ideas_direct)]
