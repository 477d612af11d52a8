"""The recipe pages: one page per recipe, and adding, editing and deleting through forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from auth.browser import session_csrf_token
from auth.models import LoginSession
from recipes.models import Recipe
from shared.pages import CONTENT_SECURITY_POLICY, FLASH_COOKIE
from tests.factories import make_recipe, make_user
from tests.helpers import form_token, page_login

HOSTILE = "<script>alert(1)</script>"
NEW = {"label": "Page-made pilaf", "source": "Grandma", "url": "https://example.com/pilaf"}


def _recipes_labelled(session: Session, label: str) -> list[Recipe]:
    return list(session.exec(select(Recipe).where(col(Recipe.label) == label)))


def test_every_page_sends_a_strict_content_security_policy(client: TestClient) -> None:
    recipe = make_recipe()
    paths = ["/", "/?q=pie", f"/recipes/{recipe.id}", "/recipes/424242", "/login"]
    for path in paths:
        response = client.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"
        # Nothing the policy would have to allow: no scripts, no inline styles.
        assert "<script" not in response.text
        assert "<style" not in response.text
        assert "style=" not in response.text


def test_the_stylesheet_is_served_by_larder(client: TestClient) -> None:
    html = client.get("/").text
    match = re.search(r'<link rel="stylesheet" href="(/static/larder\.css\?v=[0-9a-f]+)">', html)
    assert match is not None
    css = client.get(match.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent" in css.text
    assert "http" not in re.sub(r"/\*.*?\*/", "", css.text, flags=re.S)  # no outside assets


def test_a_recipe_has_its_own_page(client: TestClient) -> None:
    recipe = make_recipe(label="Lentil soup", source="Soup Weekly", url="https://soup.example/1")

    html = client.get("/").text
    assert f'href="/recipes/{recipe.id}"' in html
    page = client.get(f"/recipes/{recipe.id}")

    assert page.status_code == 200
    assert "Lentil soup" in page.text
    assert "Soup Weekly" in page.text
    assert '<a class="out" href="https://soup.example/1" rel="noopener noreferrer">' in page.text
    # Signed out: readable, but nothing to change.
    assert "/edit" not in page.text
    assert "/delete" not in page.text


@pytest.mark.parametrize("recipe_id", ["424242", "0", "-1", "abc", "99999999999999999999"])
def test_an_unknown_recipe_is_a_404_page(client: TestClient, recipe_id: str) -> None:
    response = client.get(f"/recipes/{recipe_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no recipe at this address." in response.text


def test_a_hostile_label_shows_as_text(client: TestClient) -> None:
    recipe = make_recipe(label=HOSTILE, source=HOSTILE)
    for path in ("/", f"/recipes/{recipe.id}"):
        html = client.get(path).text
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_stored_non_http_link_is_not_made_a_link(client: TestClient) -> None:
    recipe = make_recipe(url="javascript:alert(1)")
    for path in ("/", f"/recipes/{recipe.id}"):
        assert 'href="javascript:' not in client.get(path).text


def test_signed_out_people_are_asked_to_sign_in(client: TestClient, session: Session) -> None:
    form = client.get("/recipes/new", follow_redirects=False)
    post = client.post("/recipes/new", data=NEW, follow_redirects=False)

    assert form.status_code == 303
    assert form.headers["location"] == "/login"
    assert post.status_code == 303
    assert _recipes_labelled(session, NEW["label"]) == []
    assert "Please sign in first." in client.get("/login").text


def test_adding_a_recipe(client: TestClient, session: Session) -> None:
    user = make_user()
    csrf = page_login(client, user.email)

    response = client.post("/recipes/new", data={**NEW, "csrf_token": csrf}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    [recipe] = _recipes_labelled(session, NEW["label"])
    assert recipe.submitter_id == user.id
    home = client.get("/").text
    assert "Recipe added." in home
    assert home.index("Page-made pilaf") < home.index("</ol>")


@pytest.mark.parametrize("token", ["", "forged", "missing", "other-session"])
def test_adding_without_a_valid_csrf_token_is_refused(
    client: TestClient, session: Session, token: str
) -> None:
    page_login(client, make_user().email)
    data = dict(NEW)
    if token == "other-session":
        # A real token, but of someone else's session.
        data["csrf_token"] = session_csrf_token("some-other-session-id")
    elif token != "missing":
        data["csrf_token"] = token

    response = client.post("/recipes/new", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert _recipes_labelled(session, NEW["label"]) == []


def test_a_bad_form_shows_what_to_fix(client: TestClient, session: Session) -> None:
    csrf = page_login(client, make_user().email)
    data = {"label": HOSTILE, "source": " ", "url": "javascript:alert(1)", "csrf_token": csrf}

    response = client.post("/recipes/new", data=data)

    assert response.status_code == 422
    assert "Say where the recipe comes from" in response.text
    assert "The link must be a full http:// or https:// address" in response.text
    assert HOSTILE not in response.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert _recipes_labelled(session, HOSTILE) == []


def test_editing_ones_own_recipe(client: TestClient, session: Session) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id, label="Draft stew")
    csrf = page_login(client, user.email)
    form = client.get(f"/recipes/{recipe.id}/edit")
    assert form.status_code == 200
    assert 'value="Draft stew"' in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version is not None

    response = client.post(
        f"/recipes/{recipe.id}/edit",
        data={**NEW, "label": "Final stew", "version": version.group(1), "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/recipes/{recipe.id}"
    session.refresh(recipe)
    assert recipe.label == "Final stew"
    page = client.get(f"/recipes/{recipe.id}").text
    assert "Recipe saved." in page
    assert "Final stew" in page


def test_editing_without_the_csrf_token_changes_nothing(
    client: TestClient, session: Session
) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id, label="Untouched")
    page_login(client, user.email)

    response = client.post(f"/recipes/{recipe.id}/edit", data={**NEW, "csrf_token": "nope"})

    assert response.status_code == 403
    session.refresh(recipe)
    assert recipe.label == "Untouched"


def test_a_stale_edit_is_refused(client: TestClient, session: Session) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id, label="Version one")
    csrf = page_login(client, user.email)
    stale = str(recipe.version)
    recipe.label = "Changed elsewhere"
    recipe.version += 1
    session.add(recipe)
    session.flush()

    response = client.post(
        f"/recipes/{recipe.id}/edit",
        data={**NEW, "label": "Mine", "version": stale, "csrf_token": csrf},
    )

    assert response.status_code == 409
    assert "Someone changed this recipe after you opened the form" in response.text
    session.refresh(recipe)
    assert recipe.label == "Changed elsewhere"


def test_other_peoples_recipes_are_a_403_page(client: TestClient, session: Session) -> None:
    recipe = make_recipe(label="Not yours")
    csrf = page_login(client, make_user().email)

    page = client.get(f"/recipes/{recipe.id}")
    form = client.get(f"/recipes/{recipe.id}/edit")
    edit = client.post(f"/recipes/{recipe.id}/edit", data={**NEW, "csrf_token": csrf})
    delete = client.post(f"/recipes/{recipe.id}/delete", data={"csrf_token": csrf})

    assert "/edit" not in page.text
    assert form.status_code == 403
    assert "You can only edit your own recipes." in form.text
    assert edit.status_code == 403
    assert delete.status_code == 403
    assert "You can only delete your own recipes." in delete.text
    session.refresh(recipe)
    assert recipe.label == "Not yours"


def test_an_admin_may_edit_anyones_recipe(client: TestClient, session: Session) -> None:
    recipe = make_recipe(label="Needs moderation")
    csrf = page_login(client, make_user(is_superuser=True).email)

    assert f'href="/recipes/{recipe.id}/edit"' in client.get(f"/recipes/{recipe.id}").text
    response = client.post(
        f"/recipes/{recipe.id}/edit",
        data={**NEW, "label": "Moderated", "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    session.refresh(recipe)
    assert recipe.label == "Moderated"


def test_deleting_ones_own_recipe(client: TestClient, session: Session) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id, label="Short-lived")
    csrf = page_login(client, user.email)
    assert f'action="/recipes/{recipe.id}/delete"' in client.get(f"/recipes/{recipe.id}").text

    response = client.post(
        f"/recipes/{recipe.id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 303
    assert _recipes_labelled(session, "Short-lived") == []
    assert "Recipe deleted." in client.get("/").text
    assert client.get(f"/recipes/{recipe.id}").status_code == 404


def test_deleting_without_the_csrf_token_deletes_nothing(
    client: TestClient, session: Session
) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id, label="Survivor")
    page_login(client, user.email)

    response = client.post(f"/recipes/{recipe.id}/delete", data={})

    assert response.status_code == 403
    assert len(_recipes_labelled(session, "Survivor")) == 1


def test_flash_messages_are_fixed_texts_only(client: TestClient) -> None:
    client.cookies.set(FLASH_COOKIE, HOSTILE, domain="127.0.0.1")
    response = client.get("/")
    assert "alert(1)" not in response.text
    assert 'class="message ok"' not in response.text
    # Whatever it held, the cookie is spent.
    assert f"{FLASH_COOKIE}=" in response.headers["set-cookie"]


def test_forms_carry_the_sessions_csrf_token(client: TestClient) -> None:
    user = make_user()
    recipe = make_recipe(submitter_id=user.id)
    csrf = page_login(client, user.email)
    for path in ("/", "/recipes/new", f"/recipes/{recipe.id}", f"/recipes/{recipe.id}/edit"):
        html = client.get(path).text
        tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
        assert tokens == {csrf}, path
    assert form_token(client.get("/").text) == csrf


def _limit_page_session(session: Session, user_id: int | None, scope: str) -> None:
    """Give the user's page session only `scope`: its scopes are what the pages obey."""
    [login_session] = session.exec(
        select(LoginSession).where(col(LoginSession.user_id) == user_id)
    ).all()
    login_session.scope = scope
    session.add(login_session)
    session.flush()


def test_a_session_without_recipes_write_cannot_use_the_forms(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="reader@example.com")
    recipe = make_recipe(submitter_id=user.id, label="Read-only stew")
    csrf = page_login(client, user.email)
    _limit_page_session(session, user.id, "")

    home = client.get("/")
    page = client.get(f"/recipes/{recipe.id}")
    answers = [
        client.get("/recipes/new"),
        client.post("/recipes/new", data={**NEW, "csrf_token": csrf}),
        client.get(f"/recipes/{recipe.id}/edit"),
        client.post(f"/recipes/{recipe.id}/edit", data={**NEW, "csrf_token": csrf}),
        client.post(f"/recipes/{recipe.id}/delete", data={"csrf_token": csrf}),
    ]

    # Still signed in, with nothing on offer that would change a recipe...
    assert "reader@example.com" in home.text
    assert 'href="/recipes/new"' not in home.text
    assert "/edit" not in page.text
    assert "/delete" not in page.text
    # ...and every form refused, as the API refuses a token without the scope.
    for answer in answers:
        assert answer.status_code == 403
        assert "This sign-in may read recipes but not add, edit or delete them." in answer.text
    assert _recipes_labelled(session, NEW["label"]) == []
    session.refresh(recipe)
    assert recipe.label == "Read-only stew"


def test_a_superuser_is_an_admin_on_the_pages_only_with_the_admin_scope(
    client: TestClient, session: Session
) -> None:
    recipe = make_recipe(label="Someone else's")
    superuser = make_user(is_superuser=True)
    csrf = page_login(client, superuser.email)
    _limit_page_session(session, superuser.id, "recipes:write")

    page = client.get(f"/recipes/{recipe.id}")
    edit = client.post(
        f"/recipes/{recipe.id}/edit", data={**NEW, "label": "Moderated", "csrf_token": csrf}
    )
    delete = client.post(f"/recipes/{recipe.id}/delete", data={"csrf_token": csrf})

    # Adding stays open (the session has recipes:write); other people's recipes do not.
    assert client.get("/recipes/new").status_code == 200
    assert "/edit" not in page.text
    assert edit.status_code == 403
    assert "You can only edit your own recipes." in edit.text
    assert delete.status_code == 403
    session.refresh(recipe)
    assert recipe.label == "Someone else's"
