"""The recipe table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
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
