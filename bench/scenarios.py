"""What the bench measures: one `Scenario` per endpoint, in the order they run.

To add one (a login, the ideas feed), append a `Scenario` to `SCENARIOS`. `path` is a string or
a function of the `BenchContext` (to point at rows that exist at this size); `setup` runs once
against the live server before the load and returns extra request headers, such as a bearer
token from signing in; `method`, `body` and `content_type` describe non-GET requests.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.fill import TableShape
from bench.labels import COMMON_KEYWORD, RARE_KEYWORD
from shared.pagination import encode_cursor

API = "/api/v1"


@dataclass(frozen=True)
class BenchContext:
    base_url: str
    database: str  # "sqlite" or "postgresql"
    table: TableShape


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str | Callable[[BenchContext], str]
    method: str = "GET"
    body: bytes | None = None
    content_type: str | None = None
    setup: Callable[[BenchContext], dict[str, str]] | None = None
    expect_status: int = 200
    # Which figures the targets compare: "get" (0.5x), "first page" and "search" (0.35x).
    tags: frozenset[str] = field(default_factory=frozenset)

    def resolve_path(self, context: BenchContext) -> str:
        return self.path if isinstance(self.path, str) else self.path(context)


def _middle_recipe(context: BenchContext) -> str:
    return f"{API}/recipes/{(context.table.min_id + context.table.max_id) // 2}"


def _deep_page(context: BenchContext) -> str:
    # A cursor 90% of the way through the table: page 4,500 of 20 at 100k rows.
    shape = context.table
    cursor = encode_cursor(shape.min_id + (shape.max_id - shape.min_id) // 10)
    return f"{API}/recipes/?cursor={cursor}"


def _search(keyword: str) -> str:
    return f"{API}/recipes/search/?" + urllib.parse.urlencode({"keyword": keyword})


SCENARIOS: list[Scenario] = [
    Scenario("get by id", _middle_recipe, tags=frozenset({"get"})),
    Scenario("list, first page", f"{API}/recipes/", tags=frozenset({"first page"})),
    Scenario("list, deep cursor", _deep_page, tags=frozenset({"deep page"})),
    Scenario(
        f"search, common ({COMMON_KEYWORD})",
        _search(COMMON_KEYWORD),
        tags=frozenset({"search", "search common"}),
    ),
    Scenario(
        f"search, rare ({RARE_KEYWORD})",
        _search(RARE_KEYWORD),
        tags=frozenset({"search", "search rare"}),
    ),
]
