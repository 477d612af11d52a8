"""factory-boy factories for Larder's tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import LazyFunction, Sequence
from factory.faker import Faker
from sqlmodel import Session

from auth.models import LoginSession, SSOIdentity
from auth.tokens import new_session_id
from recipes.models import Recipe
from shared.models import utcnow
from users.models import User

# Every factory user has this password; its hash is made once so factories stay fast.
DEFAULT_PASSWORD = "correct horse battery staple"
_default_hash: str | None = None


def default_password_hash() -> str:
    global _default_hash
    if _default_hash is None:
        from auth.passwords import hash_password

        _default_hash = hash_password(DEFAULT_PASSWORD)
    return _default_hash


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = Sequence(lambda n: f"cook{n}@example.com")
    first_name = Faker("first_name")
    surname = Faker("last_name")
    hashed_password = LazyFunction(default_password_hash)
    is_active = True
    is_superuser = False


class RecipeFactory(BaseFactory):
    class Meta:
        model = Recipe

    label = Sequence(lambda n: f"Recipe number {n}")
    source = Faker("company")
    url = Sequence(lambda n: f"https://example.com/recipes/{n}")
    # A new user unless the test names the submitter.
    submitter_id = LazyFunction(lambda: make_user().id)


class LoginSessionFactory(BaseFactory):
    """A live login session, as a sign-in leaves it (without its refresh tokens)."""

    class Meta:
        model = LoginSession

    id = LazyFunction(new_session_id)
    user_id = LazyFunction(lambda: make_user().id)
    scope = ""
    method = "password"
    expires_at = LazyFunction(lambda: utcnow() + timedelta(days=1))


class SSOIdentityFactory(BaseFactory):
    """A user's link to an account at a single sign-on provider."""

    class Meta:
        model = SSOIdentity

    # The provider that tests/auth configures and runs.
    provider = "mock"
    subject = Sequence(lambda n: f"factory-subject-{n}")
    user_id = LazyFunction(lambda: make_user().id)


FACTORIES = (UserFactory, RecipeFactory, LoginSessionFactory, SSOIdentityFactory)


def bind(session: Session | None) -> None:
    """Point every factory at the test's session."""
    for factory_class in FACTORIES:
        factory_class._meta.sqlalchemy_session = session  # type: ignore[attr-defined]


def make_user(**fields: Any) -> User:
    """A flushed User; a typed front for UserFactory."""
    return cast(User, UserFactory(**fields))


def make_recipe(**fields: Any) -> Recipe:
    """A flushed Recipe; a typed front for RecipeFactory."""
    return cast(Recipe, RecipeFactory(**fields))


def make_login_session(**fields: Any) -> LoginSession:
    """A flushed LoginSession; a typed front for LoginSessionFactory."""
    return cast(LoginSession, LoginSessionFactory(**fields))


def make_sso_identity(**fields: Any) -> SSOIdentity:
    """A flushed SSOIdentity; a typed front for SSOIdentityFactory."""
    return cast(SSOIdentity, SSOIdentityFactory(**fields))
