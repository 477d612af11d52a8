"""Recipe operations on a session: the CRUD base plus Larder's queries and rules."""

from __future__ import annotations

from sqlmodel import Session, col, select

from recipes.models import Recipe
from recipes.reads import search_plan
from recipes.schemas import RecipeCreate, RecipeUpdate
from shared.crud import CRUDBase
from shared.errors import NotFound
from shared.reads import SessionReader

MIN_KEYWORD_LENGTH = 3
MAX_KEYWORD_LENGTH = 100


class RecipeNotFound(NotFound):
    def __init__(self, recipe_id: int) -> None:
        super().__init__(f"Recipe with ID {recipe_id} not found")


def etag_of(recipe_id: int | None, version: int) -> str:
    """A strong validator that changes whenever the recipe does."""
    return f'"{recipe_id}.{version}"'


def etag_for(recipe: Recipe) -> str:
    return etag_of(recipe.id, recipe.version)


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


recipe_service = RecipeService(Recipe)
