"""User operations on a session."""

from __future__ import annotations

from sqlmodel import Session, col, select

from shared.crud import CRUDBase
from users.models import User
from users.schemas import UserCreate


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, so one mailbox is one account whatever its spelling."""
    return email.strip().lower()


class UserService(CRUDBase[User, UserCreate, UserCreate]):
    def get_by_email(self, session: Session, *, email: str) -> User | None:
        statement = select(User).where(col(User.email) == normalise_email(email))
        return session.exec(statement).first()

    def create_user(
        self,
        session: Session,
        *,
        user_in: UserCreate,
        hashed_password: str | None,
        is_superuser: bool = False,
    ) -> User:
        return self.create(
            session,
            obj_in=user_in,
            email=normalise_email(user_in.email),
            hashed_password=hashed_password,
            is_superuser=is_superuser,
        )


user_service = UserService(User)
