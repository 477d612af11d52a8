"""Request and response models for sign-up, sign-in, tokens and passwords."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, is_common_password

Name = Annotated[str, Field(min_length=1, max_length=256)]


def _refuse_common(password: str) -> str:
    if is_common_password(password):
        raise ValueError("this password is too common; choose another")
    return password


NewPassword = Annotated[
    str,
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
    AfterValidator(_refuse_common),
]


class SignupRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "cook@example.com",
                    "password": "a long and private phrase",
                    "first_name": "Ada",
                    "surname": "Lovelace",
                }
            ]
        }
    )

    email: Annotated[EmailStr, Field(max_length=320)]
    password: NewPassword
    first_name: Name | None = None
    surname: Name | None = None

    @model_validator(mode="before")
    @classmethod
    def split_full_name(cls, data: Any) -> Any:
        """Older clients send `full_name`; it fills first name and surname when those are absent."""
        if isinstance(data, dict) and isinstance(data.get("full_name"), str):
            first, _, rest = data["full_name"].strip().partition(" ")
            data = dict(data)
            if not data.get("first_name") and first:
                data["first_name"] = first
            if not data.get("surname") and rest.strip():
                data["surname"] = rest.strip()
        return data


class LoginForm(BaseModel):
    """The OAuth2 password grant, as a urlencoded or multipart form."""

    username: Annotated[str, Field(max_length=320, description="The account's email.")]
    password: Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]
    scope: Annotated[str, Field(max_length=512, description="Scopes wanted, space-separated.")] = ""
    grant_type: Annotated[str | None, Field(pattern="^password$")] = None
    client_id: str | None = None
    client_secret: str | None = None


class TokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "token_type": "bearer",
                    "expires_in": 900,
                    "refresh_token": "q9Zb0...",
                    "scope": "recipes:write",
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    scope: str = Field(description="The granted scopes, space-separated.")


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class PasswordResetRequest(BaseModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]


class PasswordResetConfirm(BaseModel):
    token: Annotated[str, Field(min_length=1, max_length=2048)]
    new_password: NewPassword


class PasswordChange(BaseModel):
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
    new_password: NewPassword


class AcceptedResponse(BaseModel):
    detail: str
