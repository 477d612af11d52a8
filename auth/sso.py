"""Single sign-on with OpenID Connect providers: the authorization-code flow with PKCE (S256),
`state` and `nonce`, and the ID token checked before anyone is signed in.

`begin` keeps what must survive the redirect (the PKCE verifier, the nonce, the provider, the
redirect URI and a hash of the browser-binding cookie) in the shared store under the state, for
a few minutes. `finish` takes it back exactly once, so a replayed or forged state finds nothing;
then it exchanges the code and checks the ID token: signature against the provider's published
keys, `iss` (the configured issuer: the mix-up defence), `aud`, `exp` and `nonce`.
Talking to the provider is in `auth.oidc`; what happens to accounts afterwards is in
`auth.sso_accounts`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from auth.oidc import (
    SignInRefused,
    exchange_code,
    oauth_client,
    provider_metadata,
    verify_id_token,
)
from auth.settings import SSOProvider, get_sso_settings
from shared.errors import BadRequest, NotFound, ServiceUnavailable
from shared.stores import Store, StoreUnavailable

logger = logging.getLogger("larder.sso")

STATE_KEY_PREFIX = "sso:state:"
_OAUTH_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")

T = TypeVar("T")


class UnknownProvider(NotFound):
    def __init__(self) -> None:
        super().__init__("Unknown sign-in provider")


class InvalidSignInState(BadRequest):
    def __init__(self) -> None:
        super().__init__("Invalid or expired sign-in state; start the sign-in again")


class SignInStoreUnavailable(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Sign-in is unavailable for a moment", headers={"Retry-After": "5"})


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in, from a checked ID token."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    given_name: str | None
    family_name: str | None


@dataclass(frozen=True)
class SignInStart:
    authorization_url: str
    # Goes to the browser in a cookie; the state entry keeps only its hash.
    browser_binding: str


def provider_config(name: str) -> SSOProvider:
    providers: dict[str, SSOProvider] = get_sso_settings().sso_providers
    provider = providers.get(name)
    if provider is None:
        raise UnknownProvider
    return provider


async def _store_call(call: Awaitable[T]) -> T:
    """Sign-in state must be kept and checked; with the store down, fail closed (503)."""
    try:
        return await call
    except StoreUnavailable as exc:
        logger.error("sign-in state store unavailable: %s", exc)
        raise SignInStoreUnavailable from exc


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def begin(store: Store, *, provider_name: str, redirect_uri: str) -> SignInStart:
    """Remember a new sign-in and return where to send the browser."""
    provider = provider_config(provider_name)
    metadata = await provider_metadata(provider_name, provider)
    state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
    code_verifier = secrets.token_urlsafe(64)  # 86 characters; PKCE allows 43 to 128
    async with oauth_client(provider, metadata, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=code_verifier, nonce=nonce
        )
    entry = {
        "provider": provider_name,
        "nonce": nonce,
        "code_verifier": code_verifier,
        "redirect_uri": redirect_uri,
        "binding": _digest(binding),
    }
    ttl = get_sso_settings().sso_state_ttl_seconds
    await _store_call(store.set(STATE_KEY_PREFIX + state, json.dumps(entry).encode(), ttl))
    return SignInStart(authorization_url=str(url), browser_binding=binding)


async def _take_state(store: Store, state: str | None) -> dict[str, str] | None:
    if not state or len(state) > 128:
        return None
    raw = await _store_call(store.take(STATE_KEY_PREFIX + state))
    return cast(dict[str, str], json.loads(raw)) if raw is not None else None


def _provider_error(params: Mapping[str, str]) -> SignInRefused:
    code = params.get("error", "")
    # The query string is anyone's to write: show a well-formed error code, never free text.
    code = code if _OAUTH_ERROR_CODE.match(code) else "unknown_error"
    if code == "access_denied":
        return SignInRefused("Sign-in was cancelled or refused at the provider (access_denied)")
    return SignInRefused(f"The provider could not sign you in ({code})")


async def finish(
    store: Store, *, provider_name: str, params: Mapping[str, str], browser_binding: str | None
) -> ProviderIdentity:
    """Complete the code flow for a callback's query parameters; the identity it proves."""
    provider = provider_config(provider_name)
    # Taken first, whatever follows: a state is spent by any answer that carries it.
    entry = await _take_state(store, params.get("state"))
    if "error" in params:
        raise _provider_error(params)
    if entry is None or entry.get("provider") != provider_name:
        raise InvalidSignInState
    if not browser_binding or not hmac.compare_digest(_digest(browser_binding), entry["binding"]):
        # Started in another browser: someone may be handing their sign-in to a victim.
        raise InvalidSignInState
    metadata = await provider_metadata(provider_name, provider)
    # RFC 9207: a provider that names itself in the answer must name the expected issuer.
    if "iss" in params and params["iss"] != metadata.issuer:
        raise SignInRefused("The answer came from another issuer than this provider")
    if not params.get("code"):
        raise SignInRefused("The provider's answer carries no authorization code")
    id_token = await exchange_code(
        provider_name,
        provider,
        metadata,
        code=params["code"],
        code_verifier=entry["code_verifier"],
        redirect_uri=entry["redirect_uri"],
    )
    claims = await verify_id_token(
        provider_name, provider, metadata, id_token, nonce=entry["nonce"]
    )
    return identity_from_claims(provider_name, claims)


def _text_claim(claims: Mapping[str, Any], name: str, max_length: int) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > max_length:
        return None
    return value.strip()


def identity_from_claims(provider_name: str, claims: Mapping[str, Any]) -> ProviderIdentity:
    email = _text_claim(claims, "email", 320)
    return ProviderIdentity(
        provider=provider_name,
        subject=str(claims["sub"]),
        email=email if email and "@" in email else None,
        # Some providers send the boolean as a string.
        email_verified=claims.get("email_verified") in (True, "true"),
        given_name=_text_claim(claims, "given_name", 256),
        family_name=_text_claim(claims, "family_name", 256),
    )
