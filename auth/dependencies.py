"""Temporary stand-in until sign-in lands: every caller is unauthenticated (401)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.errors import NotAuthenticated
from users.models import User


def get_current_user() -> User:
    raise NotAuthenticated("Not authenticated")


CurrentUser = Annotated[User, Depends(get_current_user)]
