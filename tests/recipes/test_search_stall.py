"""A search cannot stall the server: keywords that make the index read most of 100,000 rows
run off the event loop (SQLite) or in a few of the reader's connections (PostgreSQL), and end
within their time budget, while other requests keep their usual pace."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine, delete, text
from sqlmodel import Session, col

from prestart import migrate
from tests.helpers import LIVE_EMAIL_DOMAIN
from tests.servers import run_server, server_env
from users.models import User, new_security_stamp

pytestmark = pytest.mark.slow

ROWS = 100_000
# Few words, so every trigram of a keyword made of them is in thousands of labels.
STYLES = ("smoky", "spicy", "easy", "classic", "creamy", "crispy", "quick", "rustic", "sticky")
METHODS = ("roast", "grilled", "braised", "baked", "poached", "steamed", "charred")
FOODS = ("chicken", "beef", "pork", "salmon", "tofu", "mushroom", "potato", "lentil", "lamb")
DISHES = ("curry", "stew", "soup", "salad", "pie", "tacos", "bake", "risotto", "pasta")
# A word repeated never occurs in a label, but every trigram of it does, in the same labels:
# the index finds candidates everywhere and checks each one's positions (SQLite: 40-150 ms
# each, inside one step of FTS5 that cannot be interrupted). Each keyword differs (a shifted
# start), so none is remembered as cheap.
KEYWORDS = [((food + " ") * 20)[shift : shift + 90] for food in FOODS for shift in range(len(food))]
SEARCHERS = 24
LOAD_SECONDS = 3.0
STATEMENT_TIMEOUT_SECONDS = 2.0
# What the other requests may take, at most, while the searches run.
STALL_BOUND_SECONDS = 1.0
# A search waits for a slot at most the statement timeout, then runs at most as long.
SEARCH_BOUND_SECONDS = 2 * STATEMENT_TIMEOUT_SECONDS + 2.0


def label(n: int) -> str:
    return " ".join(
        (STYLES[n % 9], METHODS[n % 7], FOODS[(n // 7) % 9], DISHES[(n // 11) % 9])
    ).title()


def fill_sqlite(path: str, user_email: str) -> None:
    """ROWS recipes in one transaction; the search index is rebuilt once at the end, which is
    much quicker than its trigger run once per row."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO user (email, first_name, is_active, is_superuser, created_at,"
            " security_stamp) VALUES (?, 'Bulk', 1, 0, '2026-01-01 00:00:00.000000', ?)",
            (user_email, new_security_stamp()),
        )
        (user_id,) = connection.execute("SELECT id FROM user").fetchone()
        (trigger,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'recipe_search_after_insert'"
        ).fetchone()
        connection.execute("DROP TRIGGER recipe_search_after_insert")
        connection.executemany(
            "INSERT INTO recipe (label, label_folded, source, url, submitter_id, created_at,"
            " updated_at, version) VALUES (?, ?, 'Bulk', 'https://example.com/r', ?,"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 1)",
            ((label(n), label(n).casefold(), user_id) for n in range(ROWS)),
        )
        connection.execute("INSERT INTO recipe_search(recipe_search) VALUES ('rebuild')")
        connection.execute(trigger)
        connection.execute("COMMIT")
    finally:
        connection.close()


def fill_postgres(engine: Engine, user_email: str) -> None:
    with Session(engine) as session:
        user = User(email=user_email, hashed_password="x")
        session.add(user)
        session.commit()

        def pick(words: tuple[str, ...], index: str) -> str:
            quoted = ", ".join(f"'{word.title()}'" for word in words)
            return f"(ARRAY[{quoted}])[1 + ({index}) % {len(words)}]"

        parts = " || ' ' || ".join(
            (pick(STYLES, "n"), pick(METHODS, "n"), pick(FOODS, "n / 7"), pick(DISHES, "n / 11"))
        )
        session.execute(
            text(  # constants only
                "INSERT INTO recipe (label, label_folded, source, url, submitter_id, created_at,"  # noqa: S608
                " updated_at, version) SELECT label, lower(label), 'Bulk', 'https://example.com/r',"
                f" :user_id, now(), now(), 1 FROM (SELECT {parts} AS label"
                f" FROM generate_series(0, {ROWS - 1}) AS n) AS labels"
            ),
            {"user_id": user.id},
        )
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE recipe"))


@pytest.fixture
def database_url(engine: Engine) -> Iterator[str]:
    """A database holding ROWS recipes: a fresh SQLite file, or the PostgreSQL test database
    (the rows are deleted afterwards)."""
    email = f"stall{LIVE_EMAIL_DOMAIN}"
    if engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="larder-stall-") as folder:
            path = str(Path(folder) / "stall.db")
            migrate(f"sqlite:///{path}")
            fill_sqlite(path, email)
            yield f"sqlite:///{path}"
        return
    fill_postgres(engine, email)
    try:
        yield os.environ["DATABASE_URL"]
    finally:
        with Session(engine) as session:
            session.execute(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
            session.commit()


@dataclass
class Timed:
    status: int
    seconds: float


async def timed_get(http: httpx2.AsyncClient, path: str) -> Timed:
    started = time.monotonic()
    response = await http.get(path)
    return Timed(response.status_code, time.monotonic() - started)


async def search_and_probe(base_url: str) -> tuple[list[Timed], list[Timed]]:
    """SEARCHERS clients sending costly searches back to back for LOAD_SECONDS, while a probe
    asks for /health/live and one recipe every 50 ms. Returns (searches, probes)."""
    searches: list[Timed] = []
    probes: list[Timed] = []
    limits = httpx2.Limits(max_connections=SEARCHERS + 4)
    async with httpx2.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        deadline = time.monotonic() + LOAD_SECONDS

        async def searcher(number: int) -> None:
            sent = number
            while time.monotonic() < deadline:
                keyword = KEYWORDS[sent % len(KEYWORDS)]
                sent += SEARCHERS
                searches.append(await timed_get(http, f"/api/v1/recipes/search/?keyword={keyword}"))

        async def probe() -> None:
            await asyncio.sleep(0.3)  # the searches are under way
            while time.monotonic() < deadline:
                probes.append(await timed_get(http, "/health/live"))
                probes.append(await timed_get(http, "/api/v1/recipes/?limit=1"))
                await asyncio.sleep(0.05)

        await asyncio.gather(probe(), *(searcher(n) for n in range(SEARCHERS)))
    return searches, probes


def test_costly_searches_on_100k_rows_do_not_stall_other_requests(database_url: str) -> None:
    env = server_env(
        DATABASE_URL=database_url, DB_STATEMENT_TIMEOUT_SECONDS=str(STATEMENT_TIMEOUT_SECONDS)
    )
    with run_server(env=env) as server:
        with server.client() as http:  # the keywords really are costly, and right
            assert http.get("/api/v1/recipes/search/", params={"keyword": KEYWORDS[0]}).json() == {
                "results": []
            }
        searches, probes = asyncio.run(search_and_probe(server.base_url))

    assert len(searches) >= SEARCHERS
    assert {search.status for search in searches} <= {200, 503}
    assert max(search.seconds for search in searches) < SEARCH_BOUND_SECONDS
    assert probes and {probe.status for probe in probes} == {200}
    slowest = max(probe.seconds for probe in probes)
    assert slowest < STALL_BOUND_SECONDS, f"a request waited {slowest:.2f} s"
