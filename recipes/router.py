"""Recipe routes under /api/v1/recipes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response, status

from recipes import reads
from recipes.schemas import RecipePublic, RecipeSearchResults
from recipes.service import MAX_KEYWORD_LENGTH, MIN_KEYWORD_LENGTH, RecipeNotFound, etag_of
from shared.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Cursor,
    Limit,
    Page,
    decode_cursor,
)
from shared.reads import ReaderDep

router = APIRouter(prefix="/recipes", tags=["recipes"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {
        "description": "No recipe has this id.",
        "content": {"application/json": {"example": {"detail": "Recipe with ID 7 not found"}}},
    }
}


# The read routes below are the busiest in Larder. They are `async def` over a driver-level
# reader and answer with pre-encoded JSON (see shared/reads.py for why); `response_model` still
# documents the shape, and tests hold the bytes to RecipePublic's.
JSON = "application/json"


@router.get("/", response_model=Page[RecipePublic], summary="List recipes, newest first")
async def list_recipes(
    reader: ReaderDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
    submitter_id: Annotated[int | None, Query(description="Only this user's recipes.")] = None,
) -> Response:
    rows, has_more = await reads.list_rows(
        reader, limit=limit, before_id=decode_cursor(cursor), submitter_id=submitter_id
    )
    return Response(reads.encode_page(rows, limit=limit, has_more=has_more), media_type=JSON)


@router.get("/search/", response_model=RecipeSearchResults, summary="Search recipes by label")
async def search_recipes(
    reader: ReaderDep,
    keyword: Annotated[
        str,
        Query(
            min_length=MIN_KEYWORD_LENGTH,
            max_length=MAX_KEYWORD_LENGTH,
            description="Text the label must contain, case-insensitively.",
        ),
    ],
    max_results: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
) -> Response:
    rows = await reads.search_rows(reader, keyword=keyword, max_results=max_results)
    return Response(reads.encode_results(rows), media_type=JSON)


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
async def get_recipe(
    reader: ReaderDep,
    recipe_id: Annotated[int, Path(description="The recipe's id.")],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    row = await reads.get_row(reader, recipe_id=recipe_id)
    if row is None:
        raise RecipeNotFound(recipe_id)
    etag = etag_of(row[0], reads.row_version(row))
    # Public data: caches may keep it but must check the ETag before reuse.
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(reads.encode_recipe(row), media_type=JSON, headers=headers)
