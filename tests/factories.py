"""factory-boy factories for Larder's tables."""

from __future__ import annotations

from typing import Any, cast

from factory.alchemy import SQLAlchemyModelFactory
from factory.declarations import LazyFunction, Sequence
from factory.faker import Faker
from sqlmodel import Session

from recipes.models import Recipe
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


def bind(session: Session | None) -> None:
    """Point every factory at the test's session."""
    for factory_class in (UserFactory, RecipeFactory):
        factory_class._meta.sqlalchemy_session = session  # type: ignore[attr-defined]


def make_user(**fields: Any) -> User:
    """A flushed User; a typed front for UserFactory."""
    return cast(User, UserFactory(**fields))


def make_recipe(**fields: Any) -> Recipe:
    """A flushed Recipe; a typed front for RecipeFactory."""
    return cast(Recipe, RecipeFactory(**fields))
