"""User operations on a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.crud import CRUDBase
from shared.errors import Conflict, NotFound, PermissionDenied
from users.models import User
from users.schemas import UserAdminUpdate, UserCreate, UserProfileUpdate


class UserNotFound(NotFound):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"User with ID {user_id} not found")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("The user with this email already exists in the system")


class CannotChangeOwnPrivileges(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("Superusers cannot deactivate, demote or delete themselves")


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, so one mailbox is one account whatever its spelling."""
    return email.strip().lower()


class UserService(CRUDBase[User, UserCreate, UserProfileUpdate]):
    def get_by_email(self, session: Session, *, email: str) -> User | None:
        statement = select(User).where(col(User.email) == normalise_email(email))
        return session.exec(statement).first()

    def get_or_404(self, session: Session, *, user_id: int) -> User:
        user = self.get(session, id=user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    def create_user(
        self,
        session: Session,
        *,
        user_in: UserCreate,
        hashed_password: str | None,
        is_superuser: bool = False,
    ) -> User:
        """Create and commit an account; EmailTaken when the address is in use."""
        if self.get_by_email(session, email=user_in.email) is not None:
            raise EmailTaken
        try:
            user = self.create(
                session,
                obj_in=user_in,
                email=normalise_email(user_in.email),
                hashed_password=hashed_password,
                is_superuser=is_superuser,
            )
            session.commit()
        except IntegrityError as exc:  # another request took the address a moment ago
            session.rollback()
            raise EmailTaken from exc
        return user

    def update_profile(self, session: Session, *, user: User, changes: UserProfileUpdate) -> User:
        self.update(session, obj=user, obj_in=changes)
        session.commit()
        return user

    def admin_update(
        self,
        session: Session,
        *,
        user: User,
        changes: UserAdminUpdate,
        acting_user: User,
        revoke_sessions: Callable[[int], None],
    ) -> User:
        """Apply an administrator's change; deactivation ends every session of the user."""
        fields: dict[str, Any] = changes.model_dump(exclude_unset=True)
        for flag in ("is_active", "is_superuser"):
            if flag in fields and fields[flag] is None:
                del fields[flag]
        if user.id == acting_user.id and (
            fields.get("is_active") is False or fields.get("is_superuser") is False
        ):
            raise CannotChangeOwnPrivileges
        deactivating = user.is_active and fields.get("is_active") is False
        self.update(session, obj=user, obj_in=fields)
        if deactivating and user.id is not None:
            revoke_sessions(user.id)
        session.commit()
        return user

    def delete_user(self, session: Session, *, user: User, acting_user: User) -> None:
        """Delete an account; its recipes and sessions go with it (ON DELETE CASCADE)."""
        if user.id == acting_user.id:
            raise CannotChangeOwnPrivileges
        self.delete(session, obj=user)
        session.commit()


user_service = UserService(User)
