"""Settings read from the environment (and an optional `.env` file).

One pydantic-settings object per concern; each is built once and cached, so tests can clear the
cache after changing the environment.
"""

from __future__ import annotations

import ipaddress
import json
import os
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Secrets that must never protect a production deployment.
DEV_SECRET_KEY = "larder-local-development-key-do-not-use-in-production"  # noqa: S105
KNOWN_DEFAULT_PASSWORDS = frozenset(
    {"changeme", "changethis", "password", "admin", "secret", "12345678", "larder"}
)
MIN_SECRET_KEY_BYTES = 32

_ENV_FILE = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


class AppSettings(BaseSettings):
    model_config = _ENV_FILE

    environment: Literal["local", "test", "production"] = "local"
    secret_key: str = ""
    first_superuser: str = "admin@recipeapi.com"
    first_superuser_password: str = "CHANGEME"  # noqa: S105
    backend_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    frontend_url: str = "http://127.0.0.1:8000"
    # Requests whose body is larger than this are refused with 413 before they are read.
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    # "json" (one object per line) or "text"; unset means json in production, text elsewhere.
    log_format: Literal["json", "text"] | None = None
    # One log line per request (method, route, status, duration, request id).
    access_log: bool = True
    # Proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are believed:
    # the one setting that decides a client's address for throttles, logs and everything else.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @property
    def json_logs(self) -> bool:
        if self.log_format is None:
            return self.environment == "production"
        return self.log_format == "json"

    @field_validator("backend_cors_origins", mode="before")
    @classmethod
    def parse_origins(cls, value: Any) -> list[str]:
        """Accept a JSON list or a comma-separated string; a trailing slash does not matter."""
        if value is None or value == "":
            return []
        if isinstance(value, str):
            text = value.strip()
            items = json.loads(text) if text.startswith("[") else text.split(",")
        else:
            items = list(value)
        return [str(item).strip().rstrip("/") for item in items if str(item).strip()]

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def parse_proxies(cls, value: Any) -> list[str]:
        """Comma-separated addresses or networks ("10.0.0.0/8", "::1"); a typo stops start-up."""
        items = value.split(",") if isinstance(value, str) else list(value or [])
        proxies = [str(item).strip() for item in items if str(item).strip()]
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"{proxy!r} is not an IP address or network") from exc
        return proxies

    @model_validator(mode="after")
    def refuse_weak_secrets_in_production(self) -> AppSettings:
        if self.environment == "production":
            problem = weak_secret_key(self.secret_key)
            if problem is not None:
                raise ValueError(f"{problem} when ENVIRONMENT=production")
            if self.first_superuser_password.strip().lower() in KNOWN_DEFAULT_PASSWORDS:
                raise ValueError(
                    "FIRST_SUPERUSER_PASSWORD must be set to a non-default value "
                    "when ENVIRONMENT=production"
                )
        elif not self.secret_key:
            self.secret_key = DEV_SECRET_KEY
        return self


def weak_secret_key(secret_key: str) -> str | None:
    """Why this key must not sign a deployment's tokens, or None when it may."""
    if secret_key == DEV_SECRET_KEY:
        return "SECRET_KEY must not be the development key, which is public"
    if len(secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY must be set to at least {MIN_SECRET_KEY_BYTES} bytes"
    return None


class DatabaseSettings(BaseSettings):
    model_config = _ENV_FILE

    database_url: str = "sqlite:///./larder.db"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Seconds a request waits for a pooled connection before giving up.
    db_pool_timeout: float = 5.0
    # Seconds an SQLite writer waits for its turn among the process's writers, and as long
    # again for the write lock held by another process.
    sqlite_busy_timeout_seconds: float = 5.0
    # Seconds any one statement may run before it is stopped (PostgreSQL's statement_timeout;
    # on SQLite, a progress handler), and a search waits for a slot at most as long.
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    # Searches whose index lookup is not yet known to be cheap that run at once per process
    # (on SQLite in worker threads, on PostgreSQL on this many of the reader's connections).
    search_concurrency: int = Field(default=2, ge=1)
    # Seconds to wait for a new PostgreSQL connection (libpq counts anything under 2 as 2), so
    # an unreachable database becomes a prompt 503 instead of a hung request.
    db_connect_timeout_seconds: int = Field(default=2, ge=1)
    db_connect_retries: int = 30
    db_connect_retry_seconds: float = 1.0

    @property
    def sqlalchemy_url(self) -> str:
        return normalise_database_url(self.database_url)


def normalise_database_url(url: str) -> str:
    """Select the psycopg 3 driver for PostgreSQL URLs, including Heroku's `postgres://`."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class RedisSettings(BaseSettings):
    """Where the shared stores (rate limits, caches) live: in the process, or in Redis."""

    model_config = _ENV_FILE

    # Unset: every process keeps its own counts and caches. Set: all processes share them.
    redis_url: str | None = None
    # Prepended to every key, so several deployments (or test runs) can share one Redis.
    redis_key_prefix: str = "larder:"

    @field_validator("redis_url", mode="before")
    @classmethod
    def blank_means_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class ServerSettings(BaseSettings):
    """How `make serve` runs the server (read by serve.py, not by the application)."""

    model_config = _ENV_FILE

    host: str = "127.0.0.1"
    port: int = 8000
    # Worker processes; the conventional name, read by uvicorn and gunicorn alike.
    web_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # On SIGTERM, seconds that requests in flight get to finish before they are cut off.
    graceful_shutdown_seconds: int = Field(default=30, ge=0)


@lru_cache
def get_app_settings() -> AppSettings:
    return AppSettings()


@lru_cache
def get_database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache
def get_redis_settings() -> RedisSettings:
    return RedisSettings()


@lru_cache
def get_server_settings() -> ServerSettings:
    return ServerSettings()


_settings_caches: list[Any] = [
    get_app_settings,
    get_database_settings,
    get_redis_settings,
    get_server_settings,
]


def register_settings_cache(getter: Any) -> Any:
    """Features register their cached settings getters, so tests can reset them all at once."""
    _settings_caches.append(getter)
    return getter


def clear_settings_caches() -> None:
    for getter in _settings_caches:
        getter.cache_clear()
