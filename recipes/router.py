"""Recipe routes under /api/v1/recipes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from auth.dependencies import CurrentUser, RecipesWrite
from recipes import reads
from recipes.dependencies import DeletableRecipe, EditableRecipe
from recipes.models import Recipe
from recipes.schemas import (
    RecipeCreate,
    RecipePublic,
    RecipeSearchResults,
    RecipeUpdate,
    RecipeUpdateLabel,
)
from recipes.service import (
    MAX_KEYWORD_LENGTH,
    MIN_KEYWORD_LENGTH,
    RecipeNotFound,
    ensure_owner,
    etag_for,
    etag_of,
    recipe_service,
)
from shared.crud import MAX_ID
from shared.database import SessionDep
from shared.direct import DirectRoute, plain_int, query_params
from shared.openapi import error_responses
from shared.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_CURSOR_LENGTH,
    MAX_PAGE_SIZE,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    page_of,
)
from shared.reads import reader_for

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
    request: Request,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
    submitter_id: Annotated[int | None, Query(description="Only this user's recipes.")] = None,
) -> Response:
    return await _list_page(request, limit=limit, cursor=cursor, submitter_id=submitter_id)


async def _list_page(
    request: Request, *, limit: int, cursor: str | None, submitter_id: int | None
) -> Response:
    rows, has_more = await reads.list_rows(
        reader_for(request), limit=limit, before_id=decode_cursor(cursor), submitter_id=submitter_id
    )
    return Response(reads.encode_page(rows, limit=limit, has_more=has_more), media_type=JSON)


@router.get(
    "/search/",
    response_model=RecipeSearchResults,
    responses=error_responses(503),
    summary="Search recipes by label",
)
async def search_recipes(
    request: Request,
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
    return await _search_results(request, keyword=keyword, max_results=max_results)


async def _search_results(request: Request, *, keyword: str, max_results: int) -> Response:
    rows = await reads.search_rows(reader_for(request), keyword=keyword, max_results=max_results)
    return Response(reads.encode_results(rows), media_type=JSON)


# If-None-Match is read from the request by get_recipe itself: as a `Header()` parameter FastAPI
# would search and validate it on every request, which costs more than the SQL. It is
# documented as the same optional string header that parameter would declare.
IF_NONE_MATCH_PARAMETER = {
    "name": "if-none-match",
    "in": "header",
    "required": False,
    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "If-None-Match"},
}


def _if_none_match(request: Request) -> str | None:
    """The first If-None-Match header, as a `Header()` parameter would take it."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for name, value in headers:
        if name == b"if-none-match":
            return value.decode("latin-1")
    return None


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
    openapi_extra={"parameters": [IF_NONE_MATCH_PARAMETER]},
)
async def get_recipe(
    request: Request, recipe_id: Annotated[int, Path(description="The recipe's id.")]
) -> Response:
    return await _recipe(request, recipe_id)


async def _recipe(request: Request, recipe_id: int) -> Response:
    row = await reads.get_row(reader_for(request), recipe_id=recipe_id)
    if row is None:
        raise RecipeNotFound(recipe_id)
    etag = etag_of(row[0], reads.row_version(row))
    # Public data: caches may keep it but must check the ETag before reuse.
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if_none_match = _if_none_match(request)
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(reads.encode_recipe(row), media_type=JSON, headers=headers)


# The same three reads as direct routes (shared/direct.py): each answers the requests it fully
# understands with the code above, and declines (None) the rest to the FastAPI route, whose
# validation then explains what is wrong.


async def _get_recipe_direct(request: Request, match: re.Match[str]) -> Response | None:
    recipe_id = plain_int(match["recipe_id"], low=0, high=MAX_ID)
    return None if recipe_id is None else await _recipe(request, recipe_id)


async def _list_recipes_direct(request: Request, _match: re.Match[str]) -> Response | None:
    params = query_params(request.scope)
    limit = plain_int(params.get("limit", str(DEFAULT_PAGE_SIZE)), low=1, high=MAX_PAGE_SIZE)
    cursor = params.get("cursor")
    submitter = params.get("submitter_id")
    submitter_id = None if submitter is None else plain_int(submitter, low=0, high=MAX_ID)
    if (
        limit is None
        or (cursor is not None and len(cursor) > MAX_CURSOR_LENGTH)
        or (submitter is not None and submitter_id is None)
    ):
        return None
    return await _list_page(request, limit=limit, cursor=cursor, submitter_id=submitter_id)


async def _search_recipes_direct(request: Request, _match: re.Match[str]) -> Response | None:
    params = query_params(request.scope)
    keyword = params.get("keyword")
    max_results = plain_int(params.get("max_results", "10"), low=1, high=MAX_PAGE_SIZE)
    if (
        keyword is None
        or not MIN_KEYWORD_LENGTH <= len(keyword) <= MAX_KEYWORD_LENGTH
        or max_results is None
    ):
        return None
    return await _search_results(request, keyword=keyword, max_results=max_results)


def direct_routes(prefix: str) -> list[DirectRoute]:
    """The recipe reads as direct routes, for an app that includes `router` under `prefix`."""
    base = prefix + router.prefix
    return [
        DirectRoute("GET", re.compile(re.escape(base + "/")), base + "/", _list_recipes_direct),
        DirectRoute(
            "GET",
            re.compile(re.escape(base + "/search/")),
            base + "/search/",
            _search_recipes_direct,
        ),
        DirectRoute(
            "GET",
            re.compile(re.escape(base + "/") + r"(?P<recipe_id>[0-9]+)"),
            base + "/{recipe_id}",
            _get_recipe_direct,
        ),
    ]


IfMatch = Annotated[
    str | None,
    Header(description="The ETag you last read; the change is refused (412) if it is stale."),
]


def _with_etag(response: Response, recipe: Recipe) -> RecipePublic:
    response.headers["ETag"] = etag_for(recipe)
    return RecipePublic.model_validate(recipe)


@router.get(
    "/my-recipes/",
    response_model=Page[RecipePublic],
    responses=error_responses(401, 422),
    summary="Your own recipes, newest first",
)
def my_recipes(
    user: CurrentUser, session: SessionDep, limit: Limit = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[RecipePublic]:
    recipes, has_more = recipe_service.list_newest(
        session, limit=limit, before_id=decode_cursor(cursor), submitter_id=user.id
    )
    return page_of(recipes, schema=RecipePublic, limit=limit, has_more=has_more)


@router.post(
    "/",
    response_model=RecipePublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 422),
    summary="Add a recipe",
)
def create_recipe(
    auth: RecipesWrite,
    recipe_in: RecipeCreate,
    session: SessionDep,
    request: Request,
    response: Response,
) -> RecipePublic:
    recipe = recipe_service.submit(
        session, recipe_in=recipe_in, caller=auth.user, is_admin=auth.is_admin
    )
    response.headers["Location"] = str(request.url_for("get_recipe", recipe_id=recipe.id).path)
    return _with_etag(response, recipe)


@router.put(
    "/",
    response_model=RecipePublic,
    responses=error_responses(400, 401, 403, 404, 422),
    summary="Change a recipe's label (the id is in the body)",
)
def update_recipe_label(
    auth: RecipesWrite, body: RecipeUpdateLabel, session: SessionDep, response: Response
) -> RecipePublic:
    recipe = recipe_service.get_or_404(session, recipe_id=body.id)
    ensure_owner(recipe, caller=auth.user, is_admin=auth.is_admin, action="update")
    recipe = recipe_service.change(session, recipe=recipe, changes={"label": body.label})
    return _with_etag(response, recipe)


@router.patch(
    "/{recipe_id}",
    response_model=RecipePublic,
    responses=error_responses(400, 401, 403, 404, 412, 422),
    summary="Change some of a recipe's fields (If-Match honoured)",
)
def patch_recipe(
    recipe: EditableRecipe,
    changes: RecipeUpdate,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> RecipePublic:
    recipe = recipe_service.change(session, recipe=recipe, changes=changes, if_match=if_match)
    return _with_etag(response, recipe)


@router.delete(
    "/{recipe_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 412, 422),
    summary="Delete a recipe",
)
def delete_recipe(
    recipe: DeletableRecipe, session: SessionDep, if_match: IfMatch = None
) -> Response:
    recipe_service.remove(session, recipe=recipe, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
