"""Alembic environment: Larder's SQLModel metadata and the DATABASE_URL setting."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import migrations.metadata  # noqa: F401 - registers every feature's tables
from shared.models import UTCDateTime
from shared.settings import get_database_settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def database_url() -> str:
    # A caller (tests, the pre-start step) may hand over a connection or a URL explicitly.
    url = config.attributes.get("database_url")
    return str(url) if url else get_database_settings().sqlalchemy_url


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render Larder's column types as plain SQLAlchemy types: revisions import no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


# Search indexes that revision 0004 (label search index) creates by hand, because they are
# specific to one database and no model can declare them: the SQLite FTS5 table (with its
# shadow tables, which share its name as a prefix) and the PostgreSQL trigram index.
# Autogenerate must neither report them as drift nor write revisions that drop them.
SEARCH_TABLE_PREFIX = "recipe_search"
SEARCH_INDEXES = frozenset({"ix_recipe_label_folded_trgm"})


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    if type_ == "table" and name is not None and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    dialect = connection.dialect.name if connection is not None else (url or "").split(":")[0]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=dialect.startswith("sqlite"),
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
