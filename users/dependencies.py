"""Dependencies that load users for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from shared.database import SessionDep
from users.models import User
from users.service import user_service


def valid_user(
    session: SessionDep, user_id: Annotated[int, Path(description="The user's id.")]
) -> User:
    """The user named in the path, or 404."""
    return user_service.get_or_404(session, user_id=user_id)


ValidUser = Annotated[User, Depends(valid_user)]
