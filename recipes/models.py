"""The recipe table."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Update, event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import Field, SQLModel

from shared.models import UTCDateTime, utcnow


class Recipe(SQLModel, table=True):
    __table_args__ = (
        # Serves "a submitter's recipes, newest first" without a sort.
        Index("ix_recipe_submitter_id_id", "submitter_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=256)
    source: str = Field(max_length=256)
    url: str = Field(max_length=2048)
    submitter_id: int = Field(foreign_key="user.id", ondelete="CASCADE", nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Bumped by every change; the ETag is derived from it and conditional updates compare it.
    version: int = Field(default=1, nullable=False)
    # The label case-folded (see fold_label), kept in step by the mapper events below. Search
    # matches against it, so "case-insensitive" means the same on SQLite and PostgreSQL whatever
    # the database's collation; never part of the API. Folding can triple a label's length.
    label_folded: str = Field(default="", max_length=768, nullable=False)


def fold_label(text: str) -> str:
    """Unicode default case folding, then NFC: how search compares labels and keywords.

    Python's folding, not the database's: SQLite's lower() folds ASCII only and PostgreSQL's
    depends on the collation, so neither could make the two databases agree.
    """
    return unicodedata.normalize("NFC", text.casefold())


@event.listens_for(Recipe, "before_insert")
@event.listens_for(Recipe, "before_update")
def _keep_label_folded(_mapper: Any, _connection: Any, recipe: Recipe) -> None:
    # Every ORM write path (services, seed, factories) goes through here, so none can forget.
    recipe.label_folded = fold_label(recipe.label)


@event.listens_for(Session, "do_orm_execute")
def _fold_labels_in_update_statements(state: ORMExecuteState) -> None:
    """`session.execute(update(Recipe).values(label=...))` skips the mapper events above; add
    the folded label to such a statement so search sees the new label at once."""
    statement = state.statement
    if not (state.is_update and isinstance(statement, Update)):
        return
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ is not Recipe:
        return
    label = statement.compile().params.get("label")
    if isinstance(label, str):
        state.statement = statement.values(label_folded=fold_label(label))
