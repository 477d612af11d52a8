"""Recipe routes under /api/v1/recipes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status

from recipes.dependencies import ValidRecipe
from recipes.schemas import RecipePublic, RecipeSearchResults
from recipes.service import MAX_KEYWORD_LENGTH, MIN_KEYWORD_LENGTH, etag_for, recipe_service
from shared.database import SessionDep
from shared.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    next_cursor_for,
)

router = APIRouter(prefix="/recipes", tags=["recipes"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "description": "No recipe has this id.",
        "content": {"application/json": {"example": {"detail": "Recipe with ID 7 not found"}}},
    }
}


@router.get("/", response_model=Page[RecipePublic], summary="List recipes, newest first")
def list_recipes(
    session: SessionDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
    submitter_id: Annotated[int | None, Query(description="Only this user's recipes.")] = None,
) -> Page[RecipePublic]:
    recipes, has_more = recipe_service.list_newest(
        session, limit=limit, before_id=decode_cursor(cursor), submitter_id=submitter_id
    )
    return Page[RecipePublic](
        results=[RecipePublic.model_validate(recipe) for recipe in recipes],
        next_cursor=next_cursor_for(
            [recipe.id for recipe in recipes if recipe.id], limit, has_more
        ),
    )


@router.get("/search/", response_model=RecipeSearchResults, summary="Search recipes by label")
def search_recipes(
    session: SessionDep,
    keyword: Annotated[
        str,
        Query(
            min_length=MIN_KEYWORD_LENGTH,
            max_length=MAX_KEYWORD_LENGTH,
            description="Text the label must contain, case-insensitively.",
        ),
    ],
    max_results: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
) -> RecipeSearchResults:
    recipes = recipe_service.search(session, keyword=keyword, max_results=max_results)
    return RecipeSearchResults(results=[RecipePublic.model_validate(r) for r in recipes])


@router.get(
    "/{recipe_id}",
    response_model=RecipePublic,
    summary="Fetch one recipe",
    responses={
        **NOT_FOUND,
        status.HTTP_304_NOT_MODIFIED: {
            "description": "The copy named by If-None-Match is current."
        },
    },
)
def get_recipe(
    recipe: ValidRecipe,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> RecipePublic | Response:
    etag = etag_for(recipe)
    # Public data: caches may keep it but must check the ETag before reuse.
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    return RecipePublic.model_validate(recipe)
