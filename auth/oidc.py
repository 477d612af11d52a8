"""Talking to one OpenID Connect provider: discovery, signing keys, the code exchange (through
authlib's httpx client) and the checks an ID token must pass.

Discovery documents and key sets are cached per process for SSO_METADATA_TTL_SECONDS; an ID
token signed with a key id not in the cached set triggers one refetch (the provider rotated its
keys), at most once a minute, so forged key ids cannot make Larder hammer the provider.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, cast

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from auth.settings import SSOProvider, get_sso_settings, is_acceptable_provider_url
from shared.errors import BadRequest, LarderError

logger = logging.getLogger("larder.sso")

# Public-key algorithms only: an ID token is checked against the provider's published keys,
# never against the client secret (HS256) and never unsigned.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
CLOCK_SKEW_SECONDS = 60
# An unknown key id means the provider rotated its keys; refetch, but at most this often.
KEYS_REFETCH_SECONDS = 60


class SignInRefused(BadRequest):
    """The provider, or what it sent, did not let this sign-in complete."""


class ProviderUnavailable(LarderError):
    status_code = 502

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"The sign-in provider '{provider}' could not be reached or sent an answer "
            "Larder cannot use; try again later"
        )


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_endpoint_auth_method: str


@dataclass
class _Cached:
    value: Any
    fetched_at: float


# Per process, keyed by URL: discovery documents and signing keys change rarely.
_metadata_cache: dict[str, _Cached] = {}
_keys_cache: dict[str, _Cached] = {}


def clear_provider_caches() -> None:
    _metadata_cache.clear()
    _keys_cache.clear()


async def _get_json(provider_name: str, url: str) -> dict[str, Any]:
    try:
        async with httpx2.AsyncClient(timeout=get_sso_settings().sso_http_timeout_seconds) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        logger.warning("sign-in provider %s: GET %s failed: %s", provider_name, url, exc)
        raise ProviderUnavailable(provider_name) from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable(provider_name)
    return document


def _is_fresh(entry: _Cached | None, max_age: float) -> bool:
    return entry is not None and time.monotonic() - entry.fetched_at < max_age


async def provider_metadata(name: str, provider: SSOProvider) -> ProviderMetadata:
    """The provider's discovery document, checked and cached."""
    cached = _metadata_cache.get(provider.discovery_url)
    if cached is not None and _is_fresh(cached, get_sso_settings().sso_metadata_ttl_seconds):
        return cast(ProviderMetadata, cached.value)
    document = await _get_json(name, provider.discovery_url)
    if document.get("issuer") != provider.expected_issuer:
        logger.error(
            "sign-in provider %s names issuer %r, expected %r",
            name,
            document.get("issuer"),
            provider.expected_issuer,
        )
        raise ProviderUnavailable(name)
    endpoints = [document.get(k) for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    if not all(isinstance(url, str) and is_acceptable_provider_url(url) for url in endpoints):
        logger.error("sign-in provider %s: discovery lacks usable endpoints", name)
        raise ProviderUnavailable(name)
    auth_methods = document.get("token_endpoint_auth_methods_supported") or []
    metadata = ProviderMetadata(
        issuer=provider.expected_issuer,
        authorization_endpoint=str(endpoints[0]),
        token_endpoint=str(endpoints[1]),
        jwks_uri=str(endpoints[2]),
        # Basic is the default the specification gives; some providers take only POST.
        token_endpoint_auth_method=(
            "client_secret_post"
            if "client_secret_post" in auth_methods and "client_secret_basic" not in auth_methods
            else "client_secret_basic"
        ),
    )
    _metadata_cache[provider.discovery_url] = _Cached(metadata, time.monotonic())
    return metadata


async def _signing_keys(name: str, metadata: ProviderMetadata, *, refetch: bool) -> KeySet:
    cached = _keys_cache.get(metadata.jwks_uri)
    max_age = KEYS_REFETCH_SECONDS if refetch else get_sso_settings().sso_metadata_ttl_seconds
    if cached is not None and _is_fresh(cached, max_age):
        return cast(KeySet, cached.value)
    document = await _get_json(name, metadata.jwks_uri)
    # Encryption keys and key types Larder does not verify with are not signing keys here.
    usable = [
        key
        for key in document.get("keys") or []
        if isinstance(key, dict)
        and key.get("use", "sig") == "sig"
        and key.get("kty") in ("RSA", "EC")
    ]
    try:
        key_set = KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        logger.error("sign-in provider %s: unusable signing keys: %s", name, exc)
        raise ProviderUnavailable(name) from exc
    _keys_cache[metadata.jwks_uri] = _Cached(key_set, time.monotonic())
    return key_set


def oauth_client(provider: SSOProvider, metadata: ProviderMetadata, redirect_uri: str) -> Any:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret.get_secret_value(),
        token_endpoint_auth_method=metadata.token_endpoint_auth_method,
        scope=provider.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        timeout=get_sso_settings().sso_http_timeout_seconds,
    )


async def exchange_code(
    name: str,
    provider: SSOProvider,
    metadata: ProviderMetadata,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> str:
    async with oauth_client(provider, metadata, redirect_uri) as client:
        try:
            token = await client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
            )
        except OAuthError as exc:
            logger.info("sign-in provider %s refused the code: %s", name, exc)
            raise SignInRefused("The provider refused the authorization code") from exc
        except (httpx2.HTTPError, ValueError) as exc:
            logger.warning("sign-in provider %s: token request failed: %s", name, exc)
            raise ProviderUnavailable(name) from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SignInRefused("The provider sent no ID token: it does not speak OpenID Connect")
    return id_token


async def verify_id_token(
    name: str, provider: SSOProvider, metadata: ProviderMetadata, id_token: str, *, nonce: str
) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, expiry and nonce hold."""
    try:
        try:
            keys = await _signing_keys(name, metadata, refetch=False)
            decoded = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        except InvalidKeyIdError:
            keys = await _signing_keys(name, metadata, refetch=True)
            decoded = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
        claims = decoded.claims
        jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": metadata.issuer},
            sub={"essential": True},
            aud={"essential": True, "value": provider.client_id},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        if len(claims["sub"]) > 255:  # OpenID Connect's limit, and the column's
            raise ValueError("subject too long")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # OpenID Connect Core 3.1.3.7: with other audiences, `azp` must name this client.
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != provider.client_id:
            raise ValueError("authorized party is another client")
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        logger.info("sign-in provider %s: ID token refused: %r", name, exc)
        raise SignInRefused("The provider's ID token is not valid for this sign-in") from exc
    return claims
