"""The breaking-change classifier behind the OpenAPI compatibility check."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.openapi_compat import compare

ROOT = Path(__file__).resolve().parents[1]

RECIPE_REF = {"$ref": "#/components/schemas/Recipe"}
WRITE_SCOPE = [{"OAuth2PasswordBearer": ["recipes:write"]}]

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/api/v1/recipes/": {
            "get": {
                "parameters": [
                    {
                        "in": "query",
                        "name": "limit",
                        "required": False,
                        "schema": {"type": "integer", "maximum": 100, "minimum": 1, "default": 20},
                    },
                    {"in": "query", "name": "cursor", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"content": {"application/json": {"schema": RECIPE_REF}}},
                    "422": {"content": {"application/json": {"example": {"detail": "no"}}}},
                },
            },
            "post": {
                "security": WRITE_SCOPE,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RecipeCreate"}
                        }
                    },
                },
                "responses": {
                    "201": {
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": RECIPE_REF}},
                    }
                },
            },
        }
    },
    "components": {
        "schemas": {
            "Recipe": {
                "type": "object",
                "required": ["id", "label", "kind", "tags"],
                "properties": {
                    "id": {"type": "integer"},
                    "label": {"type": "string", "maxLength": 256},
                    "kind": {"type": "string", "enum": ["main", "side"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                    # Pydantic v1 wraps a described reference in allOf.
                    "author": {
                        "allOf": [{"$ref": "#/components/schemas/Author"}],
                        "description": "Who wrote it.",
                    },
                },
            },
            "Tag": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "color": {"type": "string"}},
            },
            "Author": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
            },
            "RecipeCreate": {
                "type": "object",
                "required": ["label"],
                "properties": {
                    "label": {"type": "string", "maxLength": 256},
                    "note": {"type": "string"},
                    "kind": {"type": "string", "enum": ["main", "side"]},
                    "portion": {"type": "integer"},
                    # Pydantic's optional field.
                    "servings": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    "ingredients": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Ingredient"},
                    },
                },
            },
            "Ingredient": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "grams": {"type": "integer"}},
            },
        },
        "securitySchemes": {
            "OAuth2PasswordBearer": {
                "type": "oauth2",
                "flows": {
                    "password": {
                        "tokenUrl": "/api/v1/auth/login",
                        "scopes": {"recipes:write": "Write.", "admin": "Everything."},
                    }
                },
            }
        },
    },
}


def _changed(edit: Any) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    # One schema used by several operations is reported once per use; the kinds matter here.
    return sorted({change.what for change in compare(BASE, new) if change.breaking})


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    return schemas


def _get(doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"]["/api/v1/recipes/"]["get"]
    return operation


def _post(doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"]["/api/v1/recipes/"]["post"]
    return operation


def _move(mapping: dict[str, Any], old_key: str, new_key: str) -> None:
    mapping[new_key] = mapping.pop(old_key)


def test_an_identical_document_has_no_changes() -> None:
    assert compare(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda d: d["paths"]["/api/v1/recipes/"].pop("post"),
            "operation removed",
            id="operation-removed",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"].pop("label"),
            "response field label removed",
            id="response-field-removed",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["kind"]["enum"].append("dessert"),
            "enum values added: ['dessert']",
            id="response-enum-value-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["kind"].update(enum=["main"]),
            "enum values removed: ['side']",
            id="request-enum-value-removed",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["note"].update(enum=["a"]),
            "values now limited to ['a']",
            id="request-enum-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["required"].append("note"),
            "field note is now required",
            id="request-field-required",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"].pop("note"),
            "request field note removed",
            id="request-field-removed",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"][0].update(required=True),
            "parameter limit is now required",
            id="parameter-required",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"][0].update({"in": "header"}),
            "parameter limit moved from query to header",
            id="parameter-moved",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"].pop(0),
            "parameter limit removed",
            id="parameter-removed",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(maxLength=100),
            "maxLength lowered to 100",
            id="request-max-length-lowered",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(type="integer"),
            "type changed from ['string'] to ['integer']",
            id="request-type-changed",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["id"].update(type="number"),
            "type changed from ['integer'] to ['number']",
            id="response-integer-to-number",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"].update(
                servings={"type": "integer"}
            ),
            "type changed from ['integer', 'null'] to ['integer']",
            id="request-optional-no-longer-null",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["id"].update(type=["integer", "null"]),
            "type changed from ['integer'] to ['integer', 'null']",
            id="response-type-list-nullable",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"].update(
                label={"anyOf": [{"type": "string", "maxLength": 256}, {"type": "null"}]}
            ),
            "type changed from ['string'] to ['null', 'string']",
            id="response-any-of-nullable",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"][0]["schema"].update(minimum=5),
            "minimum raised to 5",
            id="parameter-minimum-raised",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"][0]["schema"].update(default=10),
            "default changed from 20 to 10",
            id="parameter-default-changed",
        ),
        # Success statuses.
        pytest.param(
            lambda d: _move(_post(d)["responses"], "201", "200"),
            "success status 201 removed (now 200)",
            id="success-status-changed",
        ),
        pytest.param(
            lambda d: _get(d)["responses"].pop("200"),
            "success status 200 removed",
            id="success-status-removed",
        ),
        pytest.param(
            lambda d: _get(d)["responses"].update({"202": {}}),
            "success status 202 added",
            id="success-status-added",
        ),
        # Security.
        pytest.param(
            lambda d: _get(d).update(security=[{"OAuth2PasswordBearer": []}]),
            "authentication is now required: none became OAuth2PasswordBearer []",
            id="public-operation-needs-a-token",
        ),
        pytest.param(
            lambda d: d.update(security=[{"OAuth2PasswordBearer": []}]),
            "authentication is now required: none became OAuth2PasswordBearer []",
            id="document-wide-security-added",
        ),
        pytest.param(
            lambda d: _post(d)["security"][0]["OAuth2PasswordBearer"].append("admin"),
            "security tightened: OAuth2PasswordBearer ['recipes:write'] became "
            "OAuth2PasswordBearer ['admin', 'recipes:write']",
            id="scope-added",
        ),
        pytest.param(
            lambda d: d["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"][
                "password"
            ]["scopes"].pop("admin"),
            "password scopes removed: ['admin']",
            id="scheme-scope-removed",
        ),
        # Array items, in requests and in responses.
        pytest.param(
            lambda d: _schemas(d)["Ingredient"]["properties"]["grams"].update(type="string"),
            "type changed from ['integer'] to ['string']",
            id="request-items-type-changed",
        ),
        pytest.param(
            lambda d: _schemas(d)["Ingredient"]["required"].append("grams"),
            "field grams is now required",
            id="request-items-field-required",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["ingredients"].update(
                items={"type": "string"}
            ),
            "type changed from ['object'] to ['string']",
            id="request-items-replaced",
        ),
        pytest.param(
            lambda d: _schemas(d)["Tag"]["properties"].pop("color"),
            "response field color removed",
            id="response-items-field-removed",
        ),
        # Required and optional response fields; allOf.
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["required"].remove("label"),
            "response field label is now optional",
            id="response-field-optional",
        ),
        pytest.param(
            lambda d: _schemas(d)["Author"]["properties"].pop("name"),
            "response field name removed",
            id="response-all-of-field-removed",
        ),
        # format and pattern.
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["note"].update(format="email"),
            "format added: email",
            id="request-format-added",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"][1]["schema"].update(pattern="^[a-z]+$"),
            "pattern added: ^[a-z]+$",
            id="parameter-pattern-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["created_at"].update(format="date"),
            "format changed: date",
            id="response-format-changed",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["label"].pop("maxLength"),
            "maxLength removed",
            id="response-bound-removed",
        ),
        # Bodies and content types.
        pytest.param(
            lambda d: _move(
                _post(d)["requestBody"]["content"], "application/json", "multipart/form-data"
            ),
            "request content type application/json no longer accepted",
            id="request-content-type-removed",
        ),
        pytest.param(
            lambda d: _move(_get(d)["responses"]["200"]["content"], "application/json", "text/csv"),
            "response content type application/json removed",
            id="response-content-type-removed",
        ),
        pytest.param(
            lambda d: _post(d)["responses"]["201"].pop("headers"),
            "response header Location removed",
            id="response-header-removed",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"].update(additionalProperties=False),
            "unknown fields are now refused",
            id="request-unknown-fields-refused",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["ingredients"].update(
                uniqueItems=True
            ),
            "items must now be unique",
            id="request-items-unique",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["label"].update(
                oneOf=[{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            ),
            "type changed from ['string'] to ['array', 'string']",
            id="response-one-of-widened",
        ),
    ],
)
def test_breaking_changes_are_caught(edit: Any, expected: str) -> None:
    assert _changed(edit) == [expected]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"].update(extra={"type": "string"}),
            id="response-field-added",
        ),
        pytest.param(
            lambda d: d["paths"].update({"/api/v1/new/": {"get": {"responses": {}}}}),
            id="operation-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(maxLength=512),
            id="request-max-length-raised",
        ),
        pytest.param(
            lambda d: _get(d)["parameters"].append(
                {"in": "query", "name": "q", "required": False, "schema": {"type": "string"}}
            ),
            id="optional-parameter-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["note"].update(
                type=["string", "null"]
            ),
            id="request-field-nullable",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["portion"].update(type="number"),
            id="request-integer-to-number",
        ),
        pytest.param(
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["servings"].update(
                anyOf=[{"type": "null"}, {"type": "integer"}]
            ),
            id="any-of-reordered",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["kind"].update(enum=["main"]),
            id="response-enum-value-no-longer-used",
        ),
        pytest.param(
            lambda d: _schemas(d)["Recipe"]["properties"]["label"].update(format="email"),
            id="response-format-added",
        ),
        pytest.param(
            lambda d: _schemas(d)["Tag"]["required"].append("color"),
            id="response-field-now-always-there",
        ),
        pytest.param(lambda d: _post(d).pop("security"), id="security-dropped"),
        pytest.param(
            lambda d: _post(d)["requestBody"].update(required=False), id="request-body-optional"
        ),
        pytest.param(
            lambda d: _get(d)["responses"].update({"304": {}, "404": {}}),
            id="redirect-and-error-statuses-added",
        ),
        pytest.param(lambda d: _get(d)["responses"].pop("422"), id="error-status-removed"),
    ],
)
def test_additions_and_widening_inputs_are_not_breaking(edit: Any) -> None:
    assert _changed(edit) == []


def test_routes_outside_v1_are_not_the_contract() -> None:
    old = copy.deepcopy(BASE)
    old["paths"]["/health/live"] = {"get": {"responses": {}}}
    assert [c for c in compare(old, BASE) if c.breaking] == []


def test_an_optional_request_body_made_required_is_caught() -> None:
    old = copy.deepcopy(BASE)
    _post(old)["requestBody"]["required"] = False
    assert [c.what for c in compare(old, BASE) if c.breaking] == ["a request body is now required"]


def _with_note(note_component: dict[str, Any] | None, note: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    if note_component is not None:
        _schemas(document)["Note"] = note_component
    _schemas(document)["RecipeCreate"]["properties"]["note"] = note
    return document


NOTE_REF = {"anyOf": [{"$ref": "#/components/schemas/Note"}, {"type": "null"}]}


def test_references_are_resolved_in_their_own_document() -> None:
    old = _with_note({"type": "string"}, NOTE_REF)
    new = _with_note({"type": "integer"}, NOTE_REF)
    assert [c.what for c in compare(old, new) if c.breaking] == [
        "type changed from ['null', 'string'] to ['integer', 'null']"
    ]


def test_a_reference_only_the_new_document_has_is_followed_there() -> None:
    new = _with_note(
        {"type": "string"},
        {"anyOf": [{"$ref": "#/components/schemas/Note"}, {"type": "null"}]},
    )
    assert [c for c in compare(BASE, new) if c.breaking] == []


def test_a_schema_that_contains_itself_is_compared_once() -> None:
    old = copy.deepcopy(BASE)
    _schemas(old)["Tag"]["properties"]["children"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Tag"},
    }
    new = copy.deepcopy(old)
    _schemas(new)["Tag"]["properties"].pop("color")
    assert [(c.where, c.what) for c in compare(old, new) if c.breaking] == [
        ("GET /api/v1/recipes/ response 200.tags[]", "response field color removed"),
        ("POST /api/v1/recipes/ response 201.tags[]", "response field color removed"),
    ]


def test_the_command_line_fails_on_a_breaking_change(tmp_path: Path) -> None:
    new = copy.deepcopy(BASE)
    _move(_post(new)["responses"], "201", "200")
    (tmp_path / "old.json").write_text(json.dumps(BASE), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(new), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tools.openapi_compat", "old.json", "new.json"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "BREAKING: POST /api/v1/recipes/: success status 201 removed (now 200)" in result.stdout


def test_parameters_shared_by_a_path_count_for_each_operation() -> None:
    old = copy.deepcopy(BASE)
    old["paths"]["/api/v1/recipes/"]["parameters"] = [
        {"in": "header", "name": "Accept-Language", "schema": {"type": "string"}}
    ]
    new = copy.deepcopy(old)
    new["paths"]["/api/v1/recipes/"]["parameters"][0]["name"] = "accept-language"
    assert [c for c in compare(old, new) if c.breaking] == []
    new["paths"]["/api/v1/recipes/"].pop("parameters")
    assert [(c.where, c.what) for c in compare(old, new) if c.breaking] == [
        ("GET /api/v1/recipes/", "parameter accept-language removed"),
        ("POST /api/v1/recipes/", "parameter accept-language removed"),
    ]
