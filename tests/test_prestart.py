"""The pre-start step: seeding and the migration history."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from prestart import SEED_RECIPES, alembic_config, seed
from recipes.models import Recipe
from shared.settings import get_app_settings, normalise_database_url
from tests.conftest import TEST_DATABASE_URL
from users.models import User


def _counts(session: Session) -> tuple[int, int]:
    users = session.exec(select(func.count()).select_from(User)).one()
    recipes = session.exec(select(func.count()).select_from(Recipe)).one()
    return users, recipes


def test_seed_creates_the_superuser_and_the_tutorial_recipes(session: Session) -> None:
    seed(session)
    settings = get_app_settings()
    admin = session.exec(select(User).where(col(User.email) == settings.first_superuser)).one()
    assert admin.is_superuser
    assert admin.hashed_password and admin.hashed_password.startswith("$argon2id$")
    assert settings.first_superuser_password not in admin.hashed_password
    labels = set(
        session.exec(select(Recipe.label).where(col(Recipe.submitter_id) == admin.id)).all()
    )
    assert {recipe.label for recipe in SEED_RECIPES} <= labels
    assert "Chicken Vesuvio" in labels


def test_seed_twice_changes_nothing(session: Session) -> None:
    seed(session)
    after_first = _counts(session)
    seed(session)
    assert _counts(session) == after_first


@contextmanager
def scratch_database() -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    url = make_url(normalise_database_url(TEST_DATABASE_URL))
    if url.get_backend_name() == "sqlite":
        path = Path(f"{url.database}.scratch-{uuid.uuid4().hex}")
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in path.parent.glob(f"{path.name}*"):
                leftover.unlink()
        return
    name = f"larder_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_go_up_down_and_up_again_without_drift() -> None:
    with scratch_database() as url:
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.check(config)  # raises when the models and the migrations disagree
        command.downgrade(config, "base")
        engine = create_engine(normalise_database_url(url))
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
    assert {"user", "recipe"} <= tables


def test_email_is_unique(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    session.add(User(email="same@example.com"))
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():  # noqa: PT012
        session.add(User(email="same@example.com"))
        session.flush()


def test_the_security_stamp_migration_gives_each_account_its_own_and_keeps_every_row() -> None:
    with scratch_database() as url:
        config = alembic_config(url)
        command.upgrade(config, "0004")
        engine = create_engine(normalise_database_url(url))
        with engine.begin() as connection:
            for email, hashed in (("a@example.com", "$argon2id$a"), ("b@example.com", None)):
                connection.execute(
                    text(
                        'INSERT INTO "user" (email, hashed_password, is_active, is_superuser,'
                        " created_at) VALUES (:email, :hashed, true, false, CURRENT_TIMESTAMP)"
                    ),
                    {"email": email, "hashed": hashed},
                )
            connection.execute(
                text(
                    "INSERT INTO login_session (id, user_id, scope, method, created_at,"
                    " expires_at) SELECT 's-' || email, id, '', 'password',"
                    ' CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM "user"'
                )
            )

        # The user table is copied on SQLite: the rows that refer to it must not go with it.
        command.upgrade(config, "head")

        with engine.connect() as connection:
            stamps = connection.execute(text('SELECT security_stamp FROM "user"')).scalars().all()
            sessions = connection.execute(text("SELECT count(*) FROM login_session")).scalar()
        engine.dispose()
    assert len(stamps) == 2
    assert len(set(stamps)) == 2
    assert all(len(stamp) >= 32 for stamp in stamps)
    assert sessions == 2
