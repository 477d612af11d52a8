"""Dependencies that load recipes for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from recipes.models import Recipe
from recipes.service import recipe_service
from shared.database import SessionDep


def valid_recipe(
    session: SessionDep, recipe_id: Annotated[int, Path(description="The recipe's id.")]
) -> Recipe:
    """The recipe named in the path, or 404."""
    return recipe_service.get_or_404(session, recipe_id=recipe_id)


ValidRecipe = Annotated[Recipe, Depends(valid_recipe)]
