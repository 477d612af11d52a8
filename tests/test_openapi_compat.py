"""The breaking-change classifier behind the OpenAPI compatibility check."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tools.openapi_compat import compare

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
                        "schema": {"type": "integer", "maximum": 100, "minimum": 1},
                    },
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Recipe"}}
                        }
                    }
                },
            },
            "post": {
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
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Recipe"}}
                        }
                    }
                },
            },
        }
    },
    "components": {
        "schemas": {
            "Recipe": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "label": {"type": "string"},
                    "kind": {"type": "string", "enum": ["main", "side"]},
                },
            },
            "RecipeCreate": {
                "type": "object",
                "required": ["label"],
                "properties": {
                    "label": {"type": "string", "maxLength": 256},
                    "note": {"type": "string"},
                },
            },
        }
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


def test_an_identical_document_has_no_changes() -> None:
    assert compare(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["paths"]["/api/v1/recipes/"].pop("post"), "operation removed"),
        (
            lambda d: _schemas(d)["Recipe"]["properties"].pop("label"),
            "response field label removed",
        ),
        (
            lambda d: _schemas(d)["Recipe"]["properties"]["kind"].update(enum=["main"]),
            "enum values removed: ['side']",
        ),
        (
            lambda d: _schemas(d)["RecipeCreate"]["required"].append("note"),
            "field note is now required",
        ),
        (
            lambda d: d["paths"]["/api/v1/recipes/"]["get"]["parameters"][0].update(required=True),
            "parameter limit is now required",
        ),
        (
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(maxLength=100),
            "maxLength lowered to 100",
        ),
        (
            lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(type="integer"),
            "type changed from ['string'] to ['integer']",
        ),
        (
            lambda d: _schemas(d)["Recipe"]["properties"]["id"].update(type=["integer", "null"]),
            "type changed from ['integer'] to ['integer', 'null']",
        ),
        (
            lambda d: d["paths"]["/api/v1/recipes/"]["get"]["parameters"][0]["schema"].update(
                minimum=5
            ),
            "minimum raised to 5",
        ),
    ],
)
def test_breaking_changes_are_caught(edit: Any, expected: str) -> None:
    assert _changed(edit) == [expected]


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: _schemas(d)["Recipe"]["properties"].update(extra={"type": "string"}),
        lambda d: d["paths"].update({"/api/v1/new/": {"get": {"responses": {}}}}),
        lambda d: _schemas(d)["RecipeCreate"]["properties"]["label"].update(maxLength=512),
        lambda d: d["paths"]["/api/v1/recipes/"]["get"]["parameters"].append(
            {"in": "query", "name": "q", "required": False, "schema": {"type": "string"}}
        ),
        lambda d: _schemas(d)["RecipeCreate"]["properties"]["note"].update(type=["string", "null"]),
    ],
)
def test_additions_and_widening_inputs_are_not_breaking(edit: Any) -> None:
    assert _changed(edit) == []


def test_routes_outside_v1_are_not_the_contract() -> None:
    old = copy.deepcopy(BASE)
    old["paths"]["/health/live"] = {"get": {"responses": {}}}
    assert [c for c in compare(old, BASE) if c.breaking] == []
