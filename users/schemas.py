"""Request and response models for users."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class UserCreate(BaseModel):
    email: str
    first_name: str | None = None
    surname: str | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    first_name: str | None
    surname: str | None
    is_active: bool
    is_superuser: bool
    created_at: datetime
