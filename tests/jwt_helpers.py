"""Reading and forging JWTs in tests: the claims of a token, and tokens signed by hand."""

from __future__ import annotations

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.jwk import OctKey

from shared.settings import get_app_settings


def json_segment(data: dict[str, Any]) -> str:
    """A JWT segment (unpadded base64url JSON) holding `data`, for tokens built piece by piece."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def segment_json(segment: str) -> dict[str, Any]:
    """The JSON inside one JWT segment, unverified."""
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def claims_of(token: str) -> dict[str, Any]:
    """The token's claims, unverified."""
    return segment_json(token.split(".")[1])


def sign(claims: dict[str, Any], *, alg: str = "HS256", key: str | None = None) -> str:
    """A token with these claims, signed with SECRET_KEY (or `key`) as Larder signs its own."""
    secret = OctKey.import_key((key or get_app_settings().secret_key).encode())
    return jwt.encode({"alg": alg, "typ": "JWT"}, claims, secret, algorithms=[alg])


def unsigned(claims: dict[str, Any]) -> str:
    """A token with these claims and no signature (`alg` none), which Larder must refuse."""
    return f"{json_segment({'alg': 'none', 'typ': 'JWT'})}.{json_segment(claims)}."


def with_claims(token: str, **changes: Any) -> str:
    """The token's claims changed (a value of None removes the claim), re-signed with our key."""
    claims = claims_of(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return sign(claims)
