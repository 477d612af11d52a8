"""The server-rendered home page: newest recipes, search, paging."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from recipes.service import MAX_KEYWORD_LENGTH, MIN_KEYWORD_LENGTH, recipe_service
from shared.database import SessionDep
from shared.errors import InvalidInput
from shared.pagination import DEFAULT_PAGE_SIZE, decode_cursor, next_cursor_for
from shared.templating import SHARED_TEMPLATES

templates = Jinja2Templates(directory=[Path(__file__).parent / "templates", SHARED_TEMPLATES])

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=MAX_KEYWORD_LENGTH)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    keyword = (q or "").strip()
    message = None
    next_cursor = None
    if keyword and len(keyword) < MIN_KEYWORD_LENGTH:
        message = f"Search needs at least {MIN_KEYWORD_LENGTH} characters."
        recipes = []
    elif keyword:
        recipes = recipe_service.search(session, keyword=keyword, max_results=DEFAULT_PAGE_SIZE)
    else:
        try:
            before_id = decode_cursor(cursor)
        except InvalidInput:
            before_id = None
            message = "That page link has expired; here are the newest recipes."
        recipes, has_more = recipe_service.list_newest(
            session, limit=DEFAULT_PAGE_SIZE, before_id=before_id
        )
        next_cursor = next_cursor_for(
            [recipe.id for recipe in recipes if recipe.id], DEFAULT_PAGE_SIZE, has_more
        )
    return templates.TemplateResponse(
        request,
        "home.html",
        {
            "recipes": recipes,
            "q": keyword,
            "message": message,
            "next_cursor": next_cursor,
            "is_first_page": not cursor,
        },
    )
