"""Recipe operations on a session: the CRUD base plus Larder's queries and rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from recipes.models import Recipe
from recipes.reads import search_plan
from recipes.schemas import RecipeCreate, RecipeUpdate
from shared.crud import CRUDBase
from shared.errors import InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from shared.models import utcnow
from shared.reads import SessionReader
from users.models import User

MIN_KEYWORD_LENGTH = 3
MAX_KEYWORD_LENGTH = 100


class RecipeNotFound(NotFound):
    def __init__(self, recipe_id: int) -> None:
        super().__init__(f"Recipe with ID {recipe_id} not found")


class NotRecipeOwner(PermissionDenied):
    def __init__(self, action: str = "update") -> None:
        super().__init__(f"You can only {action} your recipes.")


class SubmitAsSomeoneElse(PermissionDenied):
    def __init__(self) -> None:
        super().__init__("You can only submit recipes as yourself")


class UnknownSubmitter(InvalidInput):
    def __init__(self, user_id: int) -> None:
        super().__init__(
            f"submitter_id {user_id} does not name a user", loc=("body", "submitter_id")
        )


class RecipeChanged(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The recipe has changed since you read it; fetch it and try again")


def etag_of(recipe_id: int | None, version: int) -> str:
    """A strong validator that changes whenever the recipe does."""
    return f'"{recipe_id}.{version}"'


def etag_for(recipe: Recipe) -> str:
    return etag_of(recipe.id, recipe.version)


def if_match_allows(if_match: str | None, recipe: Recipe) -> bool:
    """RFC 9110 If-Match: `*` or a list of strong ETags (weak ones never match)."""
    if if_match is None:
        return True
    tags = {tag.strip() for tag in if_match.split(",")}
    return "*" in tags or etag_for(recipe) in tags


class RecipeService(CRUDBase[Recipe, RecipeCreate, RecipeUpdate]):
    def get_or_404(self, session: Session, *, recipe_id: int) -> Recipe:
        recipe = self.get(session, id=recipe_id)
        if recipe is None:
            raise RecipeNotFound(recipe_id)
        return recipe

    def list_newest(
        self,
        session: Session,
        *,
        limit: int,
        before_id: int | None = None,
        submitter_id: int | None = None,
    ) -> tuple[list[Recipe], bool]:
        where = [] if submitter_id is None else [col(Recipe.submitter_id) == submitter_id]
        return self.list_page(session, limit=limit, before_id=before_id, where=where)

    def search(self, session: Session, *, keyword: str, max_results: int) -> list[Recipe]:
        """Recipes whose label contains `keyword`, case-insensitively, newest first.

        Served by the search index (recipes.reads.search_plan); `%`, `_` and quotes in the
        keyword are plain text.
        """
        reader = SessionReader(session)
        ids: list[int] = []
        for sql, params in search_plan(reader.dialect, keyword=keyword, max_results=max_results):
            ids = [row[0] for row in reader.fetch_sync(sql, params)]
            if len(ids) >= max_results:
                break
        if not ids:
            return []
        statement = select(Recipe).where(col(Recipe.id).in_(ids)).order_by(col(Recipe.id).desc())
        return list(session.exec(statement))

    def submit(
        self, session: Session, *, recipe_in: RecipeCreate, caller: User, is_admin: bool
    ) -> Recipe:
        """Create a recipe as the caller; only an admin may name another submitter."""
        submitter_id = recipe_in.submitter_id or caller.id
        if submitter_id != caller.id:
            if not is_admin:
                raise SubmitAsSomeoneElse
            if submitter_id is None or session.get(User, submitter_id) is None:
                raise UnknownSubmitter(recipe_in.submitter_id or 0)
        recipe = self.create(
            session, obj_in=recipe_in.model_copy(update={"submitter_id": submitter_id})
        )
        session.commit()
        return recipe

    def change(
        self,
        session: Session,
        *,
        recipe: Recipe,
        changes: RecipeUpdate | dict[str, Any],
        if_match: str | None = None,
    ) -> Recipe:
        """Apply a partial change. With If-Match, the write is a compare-and-set on the
        version: of several writers holding the same ETag, exactly one wins; the rest get 412
        and change nothing."""
        if not if_match_allows(if_match, recipe):
            raise RecipeChanged
        values = changes if isinstance(changes, dict) else changes.model_dump(exclude_unset=True)
        conditions = [col(Recipe.id) == recipe.id]
        if if_match is not None:
            conditions.append(col(Recipe.version) == recipe.version)
        result = session.exec(
            update(Recipe)
            .where(*conditions)
            .values(**values, version=col(Recipe.version) + 1, updated_at=utcnow())
        )
        if result.rowcount != 1:
            session.rollback()
            raise RecipeChanged
        session.commit()
        session.refresh(recipe)
        return recipe

    def remove(self, session: Session, *, recipe: Recipe, if_match: str | None = None) -> None:
        if not if_match_allows(if_match, recipe):
            raise RecipeChanged
        self.delete(session, obj=recipe)
        session.commit()


def ensure_owner(recipe: Recipe, *, caller: User, is_admin: bool, action: str) -> None:
    if recipe.submitter_id != caller.id and not is_admin:
        raise NotRecipeOwner(action)


recipe_service = RecipeService(Recipe)
