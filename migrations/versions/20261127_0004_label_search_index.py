"""label search index

A case-folded copy of the label (`recipe.label_folded`) and an index that serves substring search
on it: on SQLite an FTS5 table with the trigram tokenizer, kept in step by triggers; on PostgreSQL
a pg_trgm GIN index. Neither index is in the models (they are dialect-specific), so
migrations/env.py keeps autogenerate from reporting them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:00:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 5000

# Shadow tables and triggers are named after the FTS table; env.py filters on this prefix.
SQLITE_SEARCH = (
    # External content: the FTS table stores only its index, the text stays in recipe.
    # case_sensitive 1 because label_folded is folded already, and only a case-sensitive
    # trigram table serves GLOB, the one pattern operator it can answer without an ESCAPE clause.
    # columnsize=0: no ranking, so no per-row size table.
    "CREATE VIRTUAL TABLE recipe_search USING fts5(label_folded, content='recipe', "
    "content_rowid='id', tokenize='trigram case_sensitive 1', columnsize=0)",
    "CREATE TRIGGER recipe_search_after_insert AFTER INSERT ON recipe BEGIN "
    "INSERT INTO recipe_search(rowid, label_folded) VALUES (new.id, new.label_folded); END",
    "CREATE TRIGGER recipe_search_after_delete AFTER DELETE ON recipe BEGIN "
    "INSERT INTO recipe_search(recipe_search, rowid, label_folded) "
    "VALUES ('delete', old.id, old.label_folded); END",
    "CREATE TRIGGER recipe_search_after_update AFTER UPDATE OF id, label_folded ON recipe BEGIN "
    "INSERT INTO recipe_search(recipe_search, rowid, label_folded) "
    "VALUES ('delete', old.id, old.label_folded); "
    "INSERT INTO recipe_search(rowid, label_folded) VALUES (new.id, new.label_folded); END",
    "INSERT INTO recipe_search(recipe_search) VALUES ('rebuild')",
)
SQLITE_SEARCH_DROP = (
    "DROP TRIGGER IF EXISTS recipe_search_after_update",
    "DROP TRIGGER IF EXISTS recipe_search_after_delete",
    "DROP TRIGGER IF EXISTS recipe_search_after_insert",
    "DROP TABLE IF EXISTS recipe_search",
)
POSTGRES_INDEX = "ix_recipe_label_folded_trgm"


def _fold(text: str) -> str:
    # A copy of recipes.models.fold_label: revisions import no application code.
    return unicodedata.normalize("NFC", text.casefold())


def _backfill() -> None:
    connection = op.get_bind()
    recipe = sa.table(
        "recipe", sa.column("id", sa.Integer), sa.column("label"), sa.column("label_folded")
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(recipe.c.id, recipe.c.label)
            .where(recipe.c.id > last_id)
            .order_by(recipe.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            recipe.update()
            .where(recipe.c.id == sa.bindparam("row_id"))
            .values(label_folded=sa.bindparam("folded")),
            [{"row_id": row.id, "folded": _fold(row.label)} for row in rows],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("recipe", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label_folded", sa.String(length=768), nullable=True))
    _backfill()
    with op.batch_alter_table("recipe", schema=None) as batch_op:
        batch_op.alter_column("label_folded", existing_type=sa.String(length=768), nullable=False)

    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
    else:
        # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX {POSTGRES_INDEX} ON recipe USING gin (label_folded gin_trgm_ops)")
        # A 1000-entry histogram lets the planner see that a keyword is rare (it estimates LIKE
        # '%...%' from the histogram) and read the trigram index rather than every row.
        op.execute("ALTER TABLE recipe ALTER COLUMN label_folded SET STATISTICS 1000")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Before the column goes: batch mode copies the table, which the triggers refer to.
        for statement in SQLITE_SEARCH_DROP:
            op.execute(statement)
    else:
        # The pg_trgm extension stays: other objects in the database may use it.
        op.execute(f"DROP INDEX IF EXISTS {POSTGRES_INDEX}")
    with op.batch_alter_table("recipe", schema=None) as batch_op:
        batch_op.drop_column("label_folded")
