"""Request and response models for recipes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictInt,
    StringConstraints,
    model_validator,
)

MAX_URL_LENGTH = 2048


def _absolute_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain white space")
    return value


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
HttpUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH),
    AfterValidator(_absolute_http_url),
]

_EXAMPLE: dict[str, JsonValue] = {
    "label": "Chicken Vesuvio",
    "source": "Serious Eats",
    "url": "http://www.seriouseats.com/recipes/2011/12/chicken-vesuvio-recipe.html",
}


class RecipeCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    label: Label
    source: Source
    url: HttpUrl
    # Defaults to the caller; only a superuser may submit for someone else.
    # Strict: `false` or `"7"` is a mistake, not user 0 or 7.
    submitter_id: StrictInt | None = None


class RecipeUpdate(BaseModel):
    """A partial update (PATCH): only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"label": "Chicken Vesuvio II"}]})

    label: Label | None = None
    source: Source | None = None
    url: HttpUrl | None = None

    @model_validator(mode="after")
    def refuse_nulls(self) -> RecipeUpdate:
        """Leaving a field out keeps it; sending null would blank a required field."""
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may be left out but not null")
        return self


class RecipeUpdateLabel(BaseModel):
    """The original tutorial's update: `PUT /recipes/` with the id in the body."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 1, "label": "New label"}]})

    id: StrictInt
    label: Label


class RecipePublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    **_EXAMPLE,
                    "submitter_id": 1,
                    "created_at": "2026-11-27T12:00:00Z",
                    "updated_at": "2026-11-27T12:00:00Z",
                }
            ]
        },
    )

    id: int
    label: str
    source: str
    url: str
    submitter_id: int
    created_at: datetime
    updated_at: datetime


class RecipeSearchResults(BaseModel):
    results: list[RecipePublic] = Field(description="Matching recipes, newest first.")
