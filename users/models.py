"""The user table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models import UTCDateTime, utcnow


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Stored normalised (see users.service.normalise_email), so this unique index is
    # case-insensitive in effect.
    email: str = Field(max_length=320, unique=True, index=True)
    # Null for accounts that only ever signed in through single sign-on.
    hashed_password: str | None = Field(default=None, max_length=255)
    first_name: str | None = Field(default=None, max_length=256)
    surname: str | None = Field(default=None, max_length=256)
    is_active: bool = Field(default=True)
    is_superuser: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
