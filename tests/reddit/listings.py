"""Reddit listing bodies of the real shape, for the client's and the route's tests."""

from __future__ import annotations

import json
from typing import Any


def post(
    title: str, score: int, *, slug: str = "post", subreddit: str = "recipes"
) -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "title": title,
            "score": score,
            "url": f"https://i.redd.it/{slug}.jpg",
            "permalink": f"/r/{subreddit}/comments/{slug}/{slug}/",
            # Real listings carry many more fields; the client ignores them.
            "author": "someone",
            "num_comments": 12,
            "over_18": False,
        },
    }


def listing(*children: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "Listing",
        "data": {"after": None, "before": None, "dist": len(children), "children": list(children)},
    }


def listing_bytes(*children: dict[str, Any]) -> bytes:
    return json.dumps(listing(*children)).encode()


def posts_for(subreddit: str, count: int) -> bytes:
    """`count` posts named after the subreddit, best first."""
    return listing_bytes(
        *(
            post(
                f"{subreddit} idea {n}",
                1000 - n,
                slug=f"{subreddit.lower()}{n}",
                subreddit=subreddit,
            )
            for n in range(count)
        )
    )
