"""Response models of the ideas feature, and the query parameters' types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

TimeFilter = Literal["hour", "day", "week", "month", "year", "all"]
MAX_LIMIT = 25

_POST_EXAMPLE: dict[str, JsonValue] = {
    "title": "Chicken Vesuvio, the way my grandmother made it",
    "score": 4242,
    "url": "https://i.redd.it/abc123.jpg",
    "permalink": "https://www.reddit.com/r/recipes/comments/abc123/chicken_vesuvio/",
}


class RedditPost(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_POST_EXAMPLE]})

    title: str
    score: int
    url: str = Field(description="What the post links to (the post itself for text posts).")
    permalink: str = Field(description="The post's page on Reddit, an absolute URL.")


class IdeasResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": {"recipes": [_POST_EXAMPLE], "easyrecipes": []},
                    "errors": {"TopSecretRecipes": "timeout"},
                }
            ]
        }
    )

    results: dict[str, list[RedditPost]] = Field(
        description="Top posts of each subreddit that answered, best first."
    )
    errors: dict[str, str] = Field(
        description="Subreddits that could not be fetched, with a short reason."
    )
