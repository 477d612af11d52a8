"""Dependencies that load recipes for routes, and check who may change them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from auth.dependencies import RecipesWrite
from recipes.models import Recipe
from recipes.service import ensure_owner, recipe_service
from shared.database import SessionDep


def valid_recipe(
    session: SessionDep, recipe_id: Annotated[int, Path(description="The recipe's id.")]
) -> Recipe:
    """The recipe named in the path, or 404."""
    return recipe_service.get_or_404(session, recipe_id=recipe_id)


ValidRecipe = Annotated[Recipe, Depends(valid_recipe)]


def editable_recipe(auth: RecipesWrite, recipe: ValidRecipe) -> Recipe:
    """The recipe, when the caller owns it or is an admin; else 403 (401 comes first)."""
    ensure_owner(recipe, caller=auth.user, is_admin=auth.is_admin, action="update")
    return recipe


def deletable_recipe(auth: RecipesWrite, recipe: ValidRecipe) -> Recipe:
    ensure_owner(recipe, caller=auth.user, is_admin=auth.is_admin, action="delete")
    return recipe


EditableRecipe = Annotated[Recipe, Depends(editable_recipe)]
DeletableRecipe = Annotated[Recipe, Depends(deletable_recipe)]
