"""Settings of the auth feature: token lifetimes, password hashing, throttling, mail, single
sign-on providers."""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # Hashes computed at once. One core is left to the event loop (and the database), so a
    # burst of logins cannot stall every other request; more would only queue for the cores.
    password_hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) - 1), ge=1
    )

    # How long a request may wait for a hashing slot before it is refused with 503.
    password_hash_queue_seconds: float = Field(default=3.0, gt=0)

    # Failed password checks per (account, client address), and per address across accounts,
    # within the window; IPv6 clients are counted by their /64.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # Per client address: accounts created, and password reset requests, in an hour.
    signup_rate_per_hour: int = Field(default=20, ge=1)
    password_reset_rate_per_hour: int = Field(default=20, ge=1)


class MailSettings(BaseSettings):
    model_config = _ENV_FILE

    smtp_host: str | None = None
    # Unset: 465 with SMTP_SSL, else 587.
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    # STARTTLS on the submission port; set false only for a local relay (then no login is sent).
    smtp_tls: bool = True
    # Implicit TLS (SMTPS, usually port 465): encrypted from the first byte. Overrides SMTP_TLS.
    smtp_ssl: bool = False
    # A PEM bundle of CAs trusted besides the system's, for a relay with a private CA. The
    # certificate and the host name are checked either way.
    smtp_ca_file: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    emails_from: str = "Larder <no-reply@larder.local>"

    @property
    def port(self) -> int:
        return self.smtp_port or (465 if self.smtp_ssl else 587)

    @property
    def encrypted(self) -> bool:
        return self.smtp_ssl or self.smtp_tls


WELL_KNOWN_SUFFIX = "/.well-known/openid-configuration"
# Provider names appear in URLs and in a login session's method ("sso:<name>", 80 characters).
PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def is_acceptable_provider_url(url: str) -> bool:
    """https, or plain http to the loopback interface (local development and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class SSOProvider(BaseModel):
    """One OpenID Connect provider, as configured in SSO_PROVIDERS."""

    # A misspelt key in an operator's JSON should fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)

    discovery_url: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: str = "openid email profile"
    # Needed only when discovery_url is not <issuer>/.well-known/openid-configuration.
    issuer: str | None = None

    @field_validator("discovery_url", "issuer")
    @classmethod
    def secure_url(cls, value: str | None) -> str | None:
        if value is not None and not is_acceptable_provider_url(value):
            raise ValueError("must be an https URL (plain http only for loopback addresses)")
        return value

    @field_validator("scopes")
    @classmethod
    def asks_for_openid(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("must include 'openid' (this is an OpenID Connect sign-in)")
        return " ".join(value.split())

    @model_validator(mode="after")
    def issuer_is_known(self) -> SSOProvider:
        if self.issuer is None and not self.discovery_url.endswith(WELL_KNOWN_SUFFIX):
            raise ValueError(
                f"issuer is required when discovery_url does not end with {WELL_KNOWN_SUFFIX}"
            )
        return self

    @property
    def expected_issuer(self) -> str:
        """The issuer every answer must name: the mix-up defence between providers."""
        return self.issuer or self.discovery_url.removesuffix(WELL_KNOWN_SUFFIX)


class SSOSettings(BaseSettings):
    model_config = _ENV_FILE

    # JSON: {"google": {"discovery_url": ..., "client_id": ..., "client_secret": ...}}
    sso_providers: dict[str, SSOProvider] = Field(default_factory=dict)
    # How long a started sign-in may take before its state expires.
    sso_state_ttl_seconds: int = Field(default=600, ge=30)
    sso_http_timeout_seconds: float = Field(default=5.0, gt=0)
    # Provider metadata (discovery) and signing keys are fetched once per this period.
    sso_metadata_ttl_seconds: int = Field(default=3600, ge=1)
    # Sign-ins started per client address in a minute: each keeps state in the store.
    sso_login_rate_per_minute: int = Field(default=20, ge=1)

    @field_validator("sso_providers")
    @classmethod
    def valid_names(cls, value: dict[str, SSOProvider]) -> dict[str, SSOProvider]:
        for name in value:
            if not PROVIDER_NAME.match(name):
                raise ValueError(
                    f"provider name {name!r}: use 1-40 lower-case letters, digits, '-' or '_'"
                )
        return value


@register_settings_cache
@lru_cache
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


@register_settings_cache
@lru_cache
def get_mail_settings() -> MailSettings:
    return MailSettings()


@register_settings_cache
@lru_cache
def get_sso_settings() -> SSOSettings:
    return SSOSettings()
