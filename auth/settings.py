"""Settings of the auth feature: token lifetimes, password hashing, throttling, mail."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.settings import register_settings_cache

_ENV_FILE = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


class AuthSettings(BaseSettings):
    model_config = _ENV_FILE

    access_token_expire_minutes: int = Field(default=15, ge=1)
    refresh_token_expire_days: int = Field(default=14, ge=1)
    password_reset_expire_minutes: int = Field(default=30, ge=1)
    jwt_issuer: str = "larder"
    jwt_audience: str = "larder-api"

    # argon2id, by default OWASP's minimum profile: 19 MiB, 2 iterations, parallelism 1.
    argon2_memory_kib: int = Field(default=19 * 1024, ge=8)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Hashes computed at once; more would only queue for the same cores.
    password_hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)

    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Proxies whose X-Forwarded-For is believed when working out a client's address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def split_proxies(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return list(value or [])


class MailSettings(BaseSettings):
    model_config = _ENV_FILE

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    # STARTTLS on the plain port; set false only for a local relay.
    smtp_tls: bool = True
    smtp_timeout_seconds: float = 10.0
    emails_from: str = "Larder <no-reply@larder.local>"


@register_settings_cache
@lru_cache
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


@register_settings_cache
@lru_cache
def get_mail_settings() -> MailSettings:
    return MailSettings()
