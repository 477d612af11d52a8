"""Settings of the ideas feature: where Reddit is, which subreddits, how long to wait and cache."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.settings import register_settings_cache

# Reddit's own rule for subreddit names; anything else never reaches a URL.
SUBREDDIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{2,20}$")
DEFAULT_SUBREDDITS = ("recipes", "easyrecipes", "TopSecretRecipes")


class RedditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    reddit_base_url: str = "https://www.reddit.com"
    reddit_subreddits: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SUBREDDITS)
    )
    # The whole budget for one subreddit: connecting, waiting and reading the body.
    reddit_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    reddit_cache_ttl_seconds: float = Field(default=300.0, gt=0)
    # Larger upstream bodies are refused; a listing of 25 posts is typically 50-150 KiB.
    reddit_max_response_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    reddit_max_connections: int = Field(default=20, gt=0)
    # Reddit asks API clients for a unique, descriptive User-Agent.
    reddit_user_agent: str = "python:larder:1.0.0 (recipe ideas for the Larder recipe API)"

    @field_validator("reddit_base_url")
    @classmethod
    def http_base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("REDDIT_BASE_URL must be an absolute http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("reddit_subreddits", mode="before")
    @classmethod
    def parse_subreddits(cls, value: Any) -> list[str]:
        """Comma-separated names, each matching Reddit's name rule; duplicates dropped."""
        items = value.split(",") if isinstance(value, str) else list(value)
        names: list[str] = []
        seen: set[str] = set()
        for item in items:
            name = str(item).strip()
            if not name:
                continue
            if not SUBREDDIT_NAME.match(name):
                raise ValueError(f"not a valid subreddit name: {name!r}")
            # Reddit's names are case-insensitive: "Recipes" and "recipes" are one subreddit.
            if name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
        if not names:
            raise ValueError("REDDIT_SUBREDDITS must name at least one subreddit")
        return names


@register_settings_cache
@lru_cache
def get_reddit_settings() -> RedditSettings:
    return RedditSettings()
