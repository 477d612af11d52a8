"""Request and response models for users. No client-settable field grants privileges,
except `is_active`/`is_superuser` in the admin-only update."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=256)]


class UserCreate(BaseModel):
    email: str
    first_name: str | None = None
    surname: str | None = None


class UserProfileUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"first_name": "Ada"}]})

    first_name: Name | None = None
    surname: Name | None = None


class UserAdminUpdate(UserProfileUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    is_active: bool | None = None
    is_superuser: bool | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "email": "cook@example.com",
                    "first_name": "Ada",
                    "surname": "Lovelace",
                    "is_active": True,
                    "is_superuser": False,
                    "created_at": "2026-11-27T12:00:00Z",
                }
            ]
        },
    )

    id: int
    email: str
    first_name: str | None
    surname: str | None
    is_active: bool
    is_superuser: bool
    created_at: datetime
