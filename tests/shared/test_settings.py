"""Settings: parsing, and the refusal of weak secrets in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import (
    DEV_SECRET_KEY,
    AppSettings,
    DatabaseSettings,
    normalise_database_url,
)

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k" * 32


def test_local_defaults_give_a_development_key() -> None:
    settings = AppSettings(_env_file=None, environment="local")
    assert len(settings.secret_key) >= 32
    assert settings.first_superuser == "admin@recipeapi.com"


@pytest.mark.parametrize(
    ("secret_key", "password", "complaint"),
    [
        ("", "a-real-password-123", "SECRET_KEY"),
        ("short-key", "a-real-password-123", "SECRET_KEY"),
        ("k" * 31, "a-real-password-123", "SECRET_KEY"),
        (DEV_SECRET_KEY, "a-real-password-123", "development key"),
        (STRONG_KEY, "CHANGEME", "FIRST_SUPERUSER_PASSWORD"),
        (STRONG_KEY, "changethis", "FIRST_SUPERUSER_PASSWORD"),
    ],
)
def test_production_refuses_weak_secrets(secret_key: str, password: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        AppSettings(
            _env_file=None,
            environment="production",
            secret_key=secret_key,
            first_superuser_password=password,
        )


def test_production_accepts_strong_secrets() -> None:
    settings = AppSettings(
        _env_file=None,
        environment="production",
        secret_key=STRONG_KEY,
        first_superuser_password="a-real-password-123",
    )
    assert settings.secret_key == STRONG_KEY


@pytest.mark.parametrize("module", ["prestart", "main"])
def test_the_service_will_not_start_in_production_with_default_secrets(module: str) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "FIRST_SUPERUSER_PASSWORD")
    }
    env["ENVIRONMENT"] = "production"
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            f"import {module}; {module}.main() if hasattr({module}, 'main') else None",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to at least 32 bytes" in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["https://a.example/", "https://b.example"]', ["https://a.example", "https://b.example"]),
        ("https://a.example/, https://b.example", ["https://a.example", "https://b.example"]),
        ("", []),
    ],
)
def test_cors_origins_accept_json_or_commas(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("BACKEND_CORS_ORIGINS", raw)
    assert AppSettings(_env_file=None).backend_cors_origins == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/larder", "postgresql+psycopg://u:p@db:5432/larder"),
        ("postgresql://u@db/larder", "postgresql+psycopg://u@db/larder"),
        ("postgresql+psycopg://u@db/larder", "postgresql+psycopg://u@db/larder"),
        ("sqlite:///./larder.db", "sqlite:///./larder.db"),
    ],
)
def test_database_urls_select_psycopg(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected
    assert DatabaseSettings(_env_file=None, database_url=url).sqlalchemy_url == expected


def test_default_database_is_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL")
    assert DatabaseSettings(_env_file=None).database_url == "sqlite:///./larder.db"
