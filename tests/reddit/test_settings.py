"""The ideas feature's settings: defaults, and subreddit names held to Reddit's rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reddit.settings import RedditSettings


def test_defaults_follow_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDDIT_BASE_URL", "REDDIT_SUBREDDITS"):
        monkeypatch.delenv(name, raising=False)
    settings = RedditSettings(_env_file=None)
    assert settings.reddit_base_url == "https://www.reddit.com"
    assert settings.reddit_subreddits == ["recipes", "easyrecipes", "TopSecretRecipes"]
    assert settings.reddit_timeout_seconds == 5
    assert settings.reddit_cache_ttl_seconds == 300


def test_subreddits_are_comma_separated_and_deduplicated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDDIT_SUBREDDITS", " recipes, Cooking ,RECIPES,,Baking_101 ")
    assert RedditSettings(_env_file=None).reddit_subreddits == ["recipes", "Cooking", "Baking_101"]


@pytest.mark.parametrize(
    "names",
    [
        "recipes,../admin",
        "recipes,r/cooking",
        "ab",
        "_underscore_first",
        "a" * 22,
        "recipes?x=1",
        "cooking%2f..",
        "",
        " , ",
    ],
)
def test_names_outside_reddits_rule_are_refused(
    monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    monkeypatch.setenv("REDDIT_SUBREDDITS", names)
    with pytest.raises(ValidationError):
        RedditSettings(_env_file=None)


@pytest.mark.parametrize("url", ["ftp://reddit.test", "www.reddit.com", "http://"])
def test_the_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("REDDIT_BASE_URL", url)
    with pytest.raises(ValidationError, match="REDDIT_BASE_URL"):
        RedditSettings(_env_file=None)


def test_a_trailing_slash_on_the_base_url_does_not_matter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDDIT_BASE_URL", "http://127.0.0.1:8081/")
    assert RedditSettings(_env_file=None).reddit_base_url == "http://127.0.0.1:8081"
