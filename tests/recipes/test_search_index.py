"""Search is served by an index on both databases and means what a plain substring scan means."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql as pg_sql
from sqlalchemy import Engine, delete, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from bench.labels import generate_labels
from recipes import reads
from recipes.models import Recipe
from recipes.service import recipe_service
from shared.postgres_reads import _numbered
from shared.reads import Params, PostgresReader, Row, SessionReader
from shared.timed_set import TimedSet
from tests.factories import make_recipe, make_user
from tests.helpers import LIVE_EMAIL_DOMAIN
from users.models import User

TRICKY_LABELS = (
    "Crème brûlée",
    "CRÈME BRÛLÉE for twelve",
    "ÉCLAIR au café",
    "éclair, mini",
    "Smørrebrød",
    "SMØRREBRØD platter",
    "Straße Bratwurst",
    "Strasse pretzels",
    "ΣΟΥΒΛΆΚΙ",
    "100% rye bread",
    "snake_case soup",
    "Grandma's pie",
    'The "best" stew',
    "Star*fruit tart",
    "Question? Quiche",
    "[Bracketed] bake",
    "back\\slash bun",
    "Pie ; DROP TABLE recipe; --",
)
KEYWORDS = (
    "chicken", "CHICK", "yuzu", "crème", "CRÈME BRÛ", "brûlée", "éclair", "ÉCLAIR", "smørre",
    "SMØRREBRØD", "STRASSE", "straße", "σουβλάκι", "0% r", "e_c", "a's", '"best"', "r*f",
    "n? q", "ar*", "*fr", "?\" ", "[br", "ed]", "k\\s", "%%%", "___", "***", "???", "[[[",
    "; DROP", " a ", "   ", "zzz", "with lemon", "lée", "GRILLED CHICKEN THIGHS",
)  # fmt: skip


def plain_scan(session: Session, keyword: str, limit: int) -> list[int]:
    """What search must return: ids whose label contains the keyword, caseless, newest first."""
    rows = session.execute(text("SELECT id, label FROM recipe ORDER BY id DESC")).all()
    needle = keyword.casefold()
    return [row.id for row in rows if needle in row.label.casefold()][:limit]


@pytest.fixture
def many_recipes(session: Session) -> None:
    submitter_id = make_user().id
    assert submitter_id is not None
    labels = [*generate_labels(3000, seed=7), *TRICKY_LABELS]
    random.Random(7).shuffle(labels)
    session.add_all(
        Recipe(label=label, source="B", url=f"https://example.com/{n}", submitter_id=submitter_id)
        for n, label in enumerate(labels)
    )
    session.flush()


def test_the_search_index_exists_after_migration(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        names = set(
            session.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'recipe_search%'")
            ).scalars()
        )
        assert {
            "recipe_search",
            "recipe_search_after_insert",
            "recipe_search_after_update",
            "recipe_search_after_delete",
        } <= names
        sql = session.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'recipe_search'")
        ).scalar_one()
        assert "fts5" in sql and "trigram" in sql
    else:
        definition = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_recipe_label_folded_trgm'")
        ).scalar_one()
        assert "USING gin (label_folded gin_trgm_ops)" in definition


@pytest.mark.usefixtures("many_recipes")
def test_sqlite_search_plans_use_the_primary_key_then_the_index(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    (newest, newest_params), (index, index_params) = reads.search_plan(
        "sqlite", keyword="yuzu", max_results=10
    )
    explain = [
        str(session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params)).all())
        for sql, params in ((newest, newest_params), (index, index_params))
    ]
    assert "INTEGER PRIMARY KEY" in explain[0], explain[0]
    assert "VIRTUAL TABLE INDEX" in explain[1], explain[1]


@pytest.fixture
def committed_recipes(engine: Engine) -> Iterator[None]:
    """20,000 committed recipes and the table vacuumed and analyzed, as autovacuum leaves a
    table that size; removed with their submitter afterwards."""
    if engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL's plans")
    with Session(engine) as session:
        user = User(email=f"bulk{LIVE_EMAIL_DOMAIN}", hashed_password="x")
        session.add(user)
        session.commit()
        session.execute(
            text(
                "INSERT INTO recipe (label, label_folded, source, url, submitter_id, created_at,"
                " updated_at, version) SELECT 'Bulk dish ' || n, 'bulk dish ' || n, 'B', 'u',"
                " :user_id, now(), now(), 1 FROM generate_series(1, 20000) AS n"
            ),
            {"user_id": user.id},
        )
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE recipe"))
    try:
        yield
    finally:
        with Session(engine) as session:
            session.execute(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
            session.commit()


def test_postgres_generic_search_plans_use_the_primary_key_then_the_index(
    engine: Engine, committed_recipes: None
) -> None:
    # The reader's connections run generic plans (shared/reads.py); these are those plans.
    (newest, newest_params), (index, index_params) = reads.search_plan(
        "postgresql", keyword="yuzu", max_results=10
    )
    plans = []
    with psycopg.connect(_conninfo(), autocommit=True) as connection:
        connection.execute("SET plan_cache_mode = force_generic_plan")
        for sql, params in ((newest, newest_params), (index, index_params)):
            connection.execute(b"PREPARE step AS " + _numbered(sql))
            arguments = pg_sql.SQL(", ").join(pg_sql.Literal(value) for value in params)
            rows = connection.execute(pg_sql.SQL("EXPLAIN EXECUTE step({})").format(arguments))
            plans.append("\n".join(row[0] for row in rows))
            connection.execute("DEALLOCATE step")
    assert "Index Scan Backward using pk_recipe" in plans[0], plans[0]
    assert "ix_recipe_label_folded_trgm" in plans[1], plans[1]


def _conninfo() -> str:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def test_the_reader_runs_generic_plans(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("PostgreSQL's plan cache")
    reader = PostgresReader(_conninfo(), 1, timeout_seconds=5, connect_timeout_seconds=5)

    rows = asyncio.run(reader.fetch("SELECT current_setting('plan_cache_mode')", ()))

    assert rows == [("force_generic_plan",)]


@pytest.mark.usefixtures("many_recipes")
def test_search_agrees_with_a_plain_substring_scan(session: Session, client: TestClient) -> None:
    for keyword in KEYWORDS:
        for limit in (5, 100):
            expected = plain_scan(session, keyword, limit)
            found = recipe_service.search(session, keyword=keyword, max_results=limit)
            assert [recipe.id for recipe in found] == expected, (keyword, limit)
            response = client.get(
                "/api/v1/recipes/search/", params={"keyword": keyword, "max_results": limit}
            )
            assert [item["id"] for item in response.json()["results"]] == expected, keyword


def test_non_ascii_labels_match_case_insensitively(client: TestClient) -> None:
    for label in ("Crème brûlée", "ÉCLAIR", "Smørrebrød"):
        make_recipe(label=label)

    def labels(keyword: str) -> list[str]:
        response = client.get("/api/v1/recipes/search/", params={"keyword": keyword})
        return [item["label"] for item in response.json()["results"]]

    assert labels("CRÈME BRÛLÉE") == ["Crème brûlée"]
    assert labels("éclair") == ["ÉCLAIR"]
    assert labels("SMØRREBRØD") == ["Smørrebrød"]


def _found(session: Session, keyword: str) -> list[int | None]:
    return [recipe.id for recipe in recipe_service.search(session, keyword=keyword, max_results=10)]


def test_inserts_updates_and_deletes_show_in_search_at_once(
    session: Session, client: TestClient
) -> None:
    recipe = make_recipe(label="Quokkaberry crumble")
    assert _found(session, "quokkaberry") == [recipe.id]

    recipe.label = "Wallabyfruit crumble"
    session.add(recipe)
    session.flush()
    assert _found(session, "quokkaberry") == []
    assert _found(session, "WALLABYFRUIT") == [recipe.id]
    api = client.get("/api/v1/recipes/search/", params={"keyword": "wallabyfruit"}).json()
    assert [item["id"] for item in api["results"]] == [recipe.id]

    session.delete(recipe)
    session.flush()
    assert _found(session, "wallabyfruit") == []


def test_recipes_deleted_with_their_submitter_leave_search(session: Session) -> None:
    user = make_user()
    make_recipe(label="Numbatnut loaf", submitter_id=user.id)
    session.delete(user)
    session.flush()
    assert _found(session, "numbatnut") == []


def test_update_statements_refold_the_label(session: Session) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    recipe = make_recipe(label="Bilbyroot hash")
    session.exec(update(Recipe).where(col(Recipe.id) == recipe.id).values(label="Potoroo pie"))
    session.flush()

    assert _found(session, "bilbyroot") == []
    assert _found(session, "POTOROO") == [recipe.id]


class RecordingReader:
    """A reader over the test's session that keeps the statements it ran."""

    def __init__(self, session: Session) -> None:
        self.inner = SessionReader(session)
        self.dialect = self.inner.dialect
        self.statements: list[str] = []

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        self.statements.append(sql)
        return await self.inner.fetch(sql, params)

    async def fetch_costly(self, sql: str, params: Params) -> list[Row]:
        return await self.fetch(sql, params)


def test_a_rare_keyword_goes_straight_to_the_index_and_answers_the_same(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads, "index_first", TimedSet())
    user = make_user()
    for n in range(30):
        make_recipe(
            label=f"Yuzu tart {n}" if n % 10 == 0 else f"Plain bun {n}", submitter_id=user.id
        )
    reader = RecordingReader(session)
    newest_step, index_step = (
        sql for sql, _ in reads.search_plan(reader.dialect, keyword="yuzu", max_results=5)
    )

    first = asyncio.run(reads.search_rows(reader, keyword="yuzu", max_results=5))
    second = asyncio.run(reads.search_rows(reader, keyword="YUZU", max_results=5))

    assert reader.statements == [newest_step, index_step, index_step]
    assert [row[0] for row in first] == [row[0] for row in second] == plain_scan(session, "yuzu", 5)
    assert len(first) == 3

    # A keyword that has since become common is still answered right by the index alone.
    for n in range(10):
        make_recipe(label=f"Yuzu soda {n}", submitter_id=user.id)
    third = asyncio.run(reads.search_rows(reader, keyword="yuzu", max_results=5))
    assert [row[0] for row in third] == plain_scan(session, "yuzu", 5)
    assert reader.statements[-1] == index_step


def test_a_common_keyword_keeps_its_cheap_first_step(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads, "index_first", TimedSet())
    user = make_user()
    for n in range(12):
        make_recipe(label=f"Chicken pie {n}", submitter_id=user.id)
    reader = RecordingReader(session)
    newest_step, _ = (
        sql for sql, _ in reads.search_plan(reader.dialect, keyword="chicken", max_results=5)
    )

    for _ in range(2):
        rows = asyncio.run(reads.search_rows(reader, keyword="chicken", max_results=5))
        assert [row[0] for row in rows] == plain_scan(session, "chicken", 5)

    assert reader.statements == [newest_step, newest_step]


def test_index_first_forgets_after_its_ttl_and_stays_bounded() -> None:
    memory = TimedSet(ttl_seconds=0.05, max_entries=3)
    memory.remember(("sqlite", "yuzu", 10))
    assert memory.remembers(("sqlite", "yuzu", 10))
    assert not memory.remembers(("sqlite", "yuzu", 20))
    time.sleep(0.06)
    assert not memory.remembers(("sqlite", "yuzu", 10))
    for word in ("a", "b", "c", "d"):
        memory.remember(("sqlite", word, 10))
    assert len(memory._until) <= 3
