"""A client generated from the committed OpenAPI snapshot works against a running Larder.

openapi-python-client generates the client into a temporary folder during the run; the tests
then use only that client, as an outside developer would.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.helpers import live_email
from tests.live_server import serve

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "openapi" / "v1.json"
PACKAGE = "larder_client"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.yml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n", encoding="utf-8")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(  # noqa: S603
        [
            str(generator),
            "generate",
            "--path",
            str(SNAPSHOT),
            "--output-path",
            str(out / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=out,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Unable to" not in result.stdout, result.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def base_url(engine: Engine, app: FastAPI, live_client: Any) -> Iterator[str]:
    """A real server on a loopback port (its data is removed by live_client's clean-up)."""
    with serve(app) as url:
        yield url


def _api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _models() -> Any:
    return importlib.import_module(f"{PACKAGE}.models")


@pytest.fixture
def open_clients() -> Iterator[ExitStack]:
    """Closes the generated clients (and their connections) however the test ends."""
    with ExitStack() as stack:
        yield stack


def test_the_generated_client_drives_larder(
    client_package: ModuleType, base_url: str, open_clients: ExitStack
) -> None:
    models = _models()
    anonymous = open_clients.enter_context(
        client_package.Client(base_url=base_url, raise_on_unexpected_status=True)
    )
    email, password = live_email(), "generated clients rock"

    signup = _api("auth.auth_signup").sync_detailed(
        client=anonymous,
        body=models.SignupRequest(email=email, password=password, first_name="Gen"),
    )
    assert signup.status_code == 201
    assert signup.parsed.email == email

    tokens = _api("auth.auth_login").sync(
        client=anonymous, body=models.LoginForm(username=email, password=password)
    )
    assert isinstance(tokens, models.TokenResponse)
    refreshed = _api("auth.auth_refresh").sync(
        client=anonymous, body=models.RefreshRequest(refresh_token=tokens.refresh_token)
    )
    assert isinstance(refreshed, models.TokenResponse)
    assert refreshed.refresh_token != tokens.refresh_token

    authed = open_clients.enter_context(
        client_package.AuthenticatedClient(
            base_url=base_url, token=refreshed.access_token, raise_on_unexpected_status=True
        )
    )
    me = _api("auth.auth_me").sync(client=authed)
    assert me.email == email

    created_ids = []
    for n in range(3):
        created = _api("recipes.recipes_create_recipe").sync_detailed(
            client=authed,
            body=models.RecipeCreate(
                label=f"Generated gumbo {n}", source="Client", url=f"https://example.com/g/{n}"
            ),
        )
        assert created.status_code == 201
        created_ids.append(created.parsed.id)

    found = _api("recipes.recipes_search_recipes").sync(
        client=anonymous, keyword="generated gumbo", max_results=10
    )
    assert [recipe.id for recipe in found.results][:3] == created_ids[::-1]

    first = _api("recipes.recipes_my_recipes").sync(client=authed, limit=2)
    second = _api("recipes.recipes_my_recipes").sync(
        client=authed, limit=2, cursor=first.next_cursor
    )
    assert [r.id for r in first.results] + [r.id for r in second.results] == created_ids[::-1]

    listed = _api("recipes.recipes_list_recipes").sync(client=anonymous, limit=2)
    assert len(listed.results) == 2
    assert isinstance(listed.next_cursor, str)

    fetched = _api("recipes.recipes_get_recipe").sync(client=anonymous, recipe_id=created_ids[0])
    assert fetched.label == "Generated gumbo 0"

    for recipe_id in created_ids:
        deleted = _api("recipes.recipes_delete_recipe").sync_detailed(
            client=authed, recipe_id=recipe_id
        )
        assert deleted.status_code == 204
    gone = _api("recipes.recipes_get_recipe").sync_detailed(
        client=anonymous, recipe_id=created_ids[0]
    )
    assert gone.status_code == 404

    logout = _api("auth.auth_logout").sync_detailed(client=authed)
    assert logout.status_code == 204
    assert _api("auth.auth_me").sync_detailed(client=authed).status_code == 401
    spent = _api("auth.auth_refresh").sync_detailed(
        client=anonymous, body=models.RefreshRequest(refresh_token=tokens.refresh_token)
    )
    assert spent.status_code == 400
    assert isinstance(spent.parsed, models.ErrorResponse)
