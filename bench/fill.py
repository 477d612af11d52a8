"""Creates the bench database and grows it to a number of recipes.

Rows go in through SQLAlchemy Core in batches, with `label_folded` computed as Larder computes
it; the search index is kept by the database itself (FTS5 triggers, or the GIN index), exactly
as in production. Growing an existing database only adds the missing rows, so one database
serves every size in turn.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from bench.labels import generate_labels
from prestart import migrate
from recipes.models import Recipe, fold_label
from shared.settings import normalise_database_url
from users.models import User, new_security_stamp

BATCH = 10_000
USERS = 100
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TableShape:
    rows: int
    min_id: int
    max_id: int


def create_database(url: str) -> None:
    """An empty database at `url` (dropped first if it exists)."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()
    else:
        _admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        _admin(url, f'CREATE DATABASE "{parsed.database}"')
    migrate(url)


def drop_database(url: str) -> None:
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite":
        _admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    parsed = make_url(normalise_database_url(url))
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def grow(url: str, *, rows: int) -> TableShape:
    engine = create_engine(normalise_database_url(url))
    try:
        _ensure_users(engine)
        with engine.connect() as connection:
            have = connection.execute(select(func.count()).select_from(Recipe)).scalar_one()
        labels = itertools.islice(generate_labels(rows), have, None)
        for start in range(have, rows, BATCH):
            batch = list(itertools.islice(labels, BATCH))
            values = [_recipe(start + offset, label) for offset, label in enumerate(batch)]
            with engine.begin() as connection:
                connection.execute(insert(Recipe), values)
        # What autovacuum would have done by the time a table this size serves traffic: fresh
        # statistics and, on PostgreSQL, the GIN index's pending entries merged.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE recipe" if _is_postgres(engine) else "ANALYZE"))
        with engine.begin() as connection:
            count, low, high = connection.execute(
                select(func.count(), func.min(Recipe.id), func.max(Recipe.id))
            ).one()
        return TableShape(rows=count, min_id=low or 0, max_id=high or 0)
    finally:
        engine.dispose()


def _is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _ensure_users(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.execute(select(func.count()).select_from(User)).scalar_one():
            return
        connection.execute(
            insert(User),
            [
                {
                    "email": f"bench{n}@example.com",
                    "first_name": "Bench",
                    "is_active": True,
                    "is_superuser": False,
                    "created_at": EPOCH,
                    "security_stamp": new_security_stamp(),
                }
                for n in range(USERS)
            ],
        )


def _recipe(number: int, label: str) -> dict[str, object]:
    created = EPOCH + timedelta(seconds=number * 60)
    return {
        "label": label,
        "label_folded": fold_label(label),
        "source": "Larder Bench Kitchen",
        "url": f"https://example.com/recipes/{number}",
        "submitter_id": 1 + number % USERS,
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }
