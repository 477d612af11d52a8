"""Larder's pages for people: the newest recipes, search, paging, one page per recipe, and,
signed in through the cookie session, adding, editing and deleting one's own recipes.

Every form posts back to Larder with the browser session's CSRF token; a post without it gets a
403 page and changes nothing. The forms obey the same scopes as the API: a session without
`recipes:write` gets a 403 page and sees no way to add, edit or delete. Successful posts answer
303 (Post/Redirect/Get) with a flash message code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from auth.dependencies import Viewer, ViewerDep
from recipes.models import Recipe
from recipes.schemas import RecipeCreate, RecipeUpdate
from recipes.service import (
    MAX_KEYWORD_LENGTH,
    MIN_KEYWORD_LENGTH,
    NotRecipeOwner,
    RecipeChanged,
    ensure_owner,
    etag_for,
    recipe_service,
)
from shared.crud import MAX_ID
from shared.database import SessionDep
from shared.errors import InvalidInput
from shared.pages import page_templates, redirect, render
from shared.pagination import DEFAULT_PAGE_SIZE, decode_cursor, next_cursor_for
from users.models import User

templates = page_templates(Path(__file__).parent / "templates")

router = APIRouter(include_in_schema=False)

FORM_EXPIRED = "This form has expired or did not come from Larder. Please reload it and try again."
NO_WRITE_SCOPE = "This sign-in may read recipes but not add, edit or delete them."
FIELD_PROBLEMS = {
    "label": "Give the recipe a name of at most 256 characters.",
    "source": "Say where the recipe comes from, in at most 256 characters.",
    "url": "The link must be a full http:// or https:// address of at most 2048 characters.",
}

# Form fields arrive as text; anything longer than the body limit never gets here.
FormText = Annotated[str, Form()]


def _page(
    request: Request,
    viewer: Viewer,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    response = render(
        templates, request, name, {"viewer": viewer, **context}, status_code=status_code
    )
    return viewer.keep_cookie(response)


def _error_page(
    request: Request, viewer: Viewer, status_code: int, heading: str, message: str
) -> HTMLResponse:
    context = {"heading": heading, "message": message}
    return _page(request, viewer, "error.html", context, status_code=status_code)


def _not_found(request: Request, viewer: Viewer) -> HTMLResponse:
    return _error_page(
        request, viewer, 404, "Recipe not found", "There is no recipe at this address."
    )


def _load(session: SessionDep, recipe_id: str) -> Recipe | None:
    if not recipe_id.isdigit() or not 1 <= int(recipe_id) <= MAX_ID:
        return None
    return recipe_service.get(session, id=int(recipe_id))


def _problems(error: ValidationError) -> list[str]:
    fields = {str(item["loc"][0]) for item in error.errors() if item["loc"]}
    return [FIELD_PROBLEMS[name] for name in FIELD_PROBLEMS if name in fields] or [
        "Please check the form."
    ]


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=MAX_KEYWORD_LENGTH)] = None,
    # Not length-limited here: decode_cursor judges every cursor, so a bad one gets this page.
    cursor: str | None = None,
) -> HTMLResponse:
    keyword = (q or "").strip()
    message = None
    next_cursor = None
    status_code = 200
    if keyword and len(keyword) < MIN_KEYWORD_LENGTH:
        message = f"Search needs at least {MIN_KEYWORD_LENGTH} characters."
        recipes = []
    elif keyword:
        try:
            recipes = recipe_service.search(session, keyword=keyword, max_results=DEFAULT_PAGE_SIZE)
        except InvalidInput:  # a NUL byte, which no label can hold
            message = "Search text cannot contain control characters."
            recipes = []
    else:
        try:
            before_id = decode_cursor(cursor)
        except InvalidInput:
            before_id = cursor = None
            message = "That page link is not valid; here are the newest recipes."
            status_code = 400
        recipes, has_more = recipe_service.list_newest(
            session, limit=DEFAULT_PAGE_SIZE, before_id=before_id
        )
        next_cursor = next_cursor_for(
            [recipe.id for recipe in recipes if recipe.id], DEFAULT_PAGE_SIZE, has_more
        )
    context = {
        "recipes": recipes,
        "q": keyword,
        "message": message,
        "next_cursor": next_cursor,
        "is_first_page": not cursor,
    }
    return _page(request, viewer, "home.html", context, status_code=status_code)


@router.get("/recipes/new", response_class=HTMLResponse)
def new_recipe_form(request: Request, viewer: ViewerDep) -> Response:
    writer = _writer(request, viewer)
    if not isinstance(writer, User):
        return writer
    return _page(request, viewer, "recipe_form.html", {"recipe": None, "values": {}})


@router.post("/recipes/new", response_class=HTMLResponse)
def add_recipe(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    label: FormText = "",
    source: FormText = "",
    url: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    writer = _writer(request, viewer)
    if not isinstance(writer, User):
        return writer
    if not viewer.csrf_ok(csrf_token):
        return _error_page(request, viewer, 403, "Form expired", FORM_EXPIRED)
    values = {"label": label, "source": source, "url": url}
    try:
        recipe_in = RecipeCreate.model_validate(values)
    except ValidationError as exc:
        context = {"recipe": None, "values": values, "problems": _problems(exc)}
        return _page(request, viewer, "recipe_form.html", context, status_code=422)
    recipe_service.submit(session, recipe_in=recipe_in, caller=writer, is_admin=viewer.is_admin)
    return viewer.keep_cookie(redirect(request, "/", flash="recipe-added"))


@router.get("/recipes/{recipe_id}", response_class=HTMLResponse)
def recipe_page(
    request: Request, session: SessionDep, viewer: ViewerDep, recipe_id: str
) -> HTMLResponse:
    recipe = _load(session, recipe_id)
    if recipe is None:
        return _not_found(request, viewer)
    return _page(
        request,
        viewer,
        "recipe.html",
        {"recipe": recipe, "can_change": _may_change(viewer, recipe)},
    )


def _may_change(viewer: Viewer, recipe: Recipe) -> bool:
    if viewer.user is None or not viewer.may_write_recipes:
        return False
    try:
        ensure_owner(recipe, caller=viewer.user, is_admin=viewer.is_admin, action="update")
    except NotRecipeOwner:
        return False
    return True


def _sign_in_first(request: Request, viewer: Viewer) -> Response:
    return viewer.keep_cookie(redirect(request, "/login", flash="sign-in-needed"))


def _writer(request: Request, viewer: Viewer) -> User | Response:
    """The signed-in user, when their session may write recipes; else the page to answer:
    sign in first, or 403 without `recipes:write` (as the API answers)."""
    if viewer.user is None:
        return _sign_in_first(request, viewer)
    if not viewer.may_write_recipes:
        return _error_page(request, viewer, 403, "Not allowed", NO_WRITE_SCOPE)
    return viewer.user


def _changeable(
    request: Request, session: SessionDep, viewer: Viewer, recipe_id: str, action: str
) -> Recipe | Response:
    """The recipe, or the page to answer instead: sign in first, 403 without the scope, 404, or
    403 for others'."""
    writer = _writer(request, viewer)
    if not isinstance(writer, User):
        return writer
    recipe = _load(session, recipe_id)
    if recipe is None:
        return _not_found(request, viewer)
    if not _may_change(viewer, recipe):
        return _error_page(
            request, viewer, 403, "Not your recipe", f"You can only {action} your own recipes."
        )
    return recipe


def _changeable_by_form(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    recipe_id: str,
    action: str,
    csrf_token: str,
) -> Recipe | Response:
    """As `_changeable`, and the form must carry this browser session's CSRF token."""
    target = _changeable(request, session, viewer, recipe_id, action)
    if isinstance(target, Recipe) and not viewer.csrf_ok(csrf_token):
        return _error_page(request, viewer, 403, "Form expired", FORM_EXPIRED)
    return target


@router.get("/recipes/{recipe_id}/edit", response_class=HTMLResponse)
def edit_recipe_form(
    request: Request, session: SessionDep, viewer: ViewerDep, recipe_id: str
) -> Response:
    recipe = _changeable(request, session, viewer, recipe_id, "edit")
    if not isinstance(recipe, Recipe):
        return recipe
    values = {"label": recipe.label, "source": recipe.source, "url": recipe.url}
    context = {"recipe": recipe, "values": values, "version": recipe.version}
    return _page(request, viewer, "recipe_form.html", context)


@router.post("/recipes/{recipe_id}/edit", response_class=HTMLResponse)
def save_recipe(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    recipe_id: str,
    label: FormText = "",
    source: FormText = "",
    url: FormText = "",
    version: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    recipe = _changeable_by_form(request, session, viewer, recipe_id, "edit", csrf_token)
    if not isinstance(recipe, Recipe):
        return recipe
    values = {"label": label, "source": source, "url": url}
    try:
        changes = RecipeUpdate.model_validate(values)
    except ValidationError as exc:
        context = {"recipe": recipe, "values": values, "version": version}
        context["problems"] = _problems(exc)
        return _page(request, viewer, "recipe_form.html", context, status_code=422)
    # The form names the version it was filled in from: a save over someone else's newer
    # change is refused rather than silently undoing it.
    if_match = f'"{recipe.id}.{version}"' if version.isdigit() else etag_for(recipe)
    try:
        recipe_service.change(session, recipe=recipe, changes=changes, if_match=if_match)
    except RecipeChanged:
        session.refresh(recipe)
        context = {"recipe": recipe, "values": values, "version": recipe.version}
        context["problems"] = [
            "Someone changed this recipe after you opened the form. "
            "Check it below and save again to replace their change."
        ]
        return _page(request, viewer, "recipe_form.html", context, status_code=409)
    return viewer.keep_cookie(redirect(request, f"/recipes/{recipe.id}", flash="recipe-saved"))


@router.post("/recipes/{recipe_id}/delete", response_class=HTMLResponse)
def delete_recipe(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    recipe_id: str,
    csrf_token: FormText = "",
) -> Response:
    recipe = _changeable_by_form(request, session, viewer, recipe_id, "delete", csrf_token)
    if not isinstance(recipe, Recipe):
        return recipe
    recipe_service.remove(session, recipe=recipe)
    return viewer.keep_cookie(redirect(request, "/", flash="recipe-deleted"))
