"""The user table."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.models import UTCDateTime, utcnow


def new_security_stamp() -> str:
    return secrets.token_urlsafe(24)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Stored normalised (see users.service.normalise_email), so this unique index is
    # case-insensitive in effect.
    email: str = Field(max_length=320, unique=True, index=True)
    # Null for accounts that only ever signed in through single sign-on.
    hashed_password: str | None = Field(default=None, max_length=255)
    # A random secret that never leaves the database, replaced whenever the password is set.
    # Password reset tokens are bound to it, so none can be made for an account (one without a
    # password included) from what is public, even by someone who holds SECRET_KEY.
    security_stamp: str = Field(default_factory=new_security_stamp, max_length=64)
    first_name: str | None = Field(default=None, max_length=256)
    surname: str | None = Field(default=None, max_length=256)
    is_active: bool = Field(default=True)
    is_superuser: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
