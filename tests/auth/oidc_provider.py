"""A real OpenID Connect provider on the loopback interface, for the single sign-on tests.

oidc-provider-mock (a Flask app built on authlib's authorization server) serves in a thread;
tests set a user's claims through its API and submit its authorization form over HTTP, as a
browser would. It accepts any client id and redirect URI, signs ID tokens with its own RSA key
and publishes that key at its JWKS endpoint.

`IdTokenRewriter` sits in front of it. When armed, it changes claims of the ID token the token
endpoint issued and signs it again with the provider's own key (or another key): the provider
always issues tokens for the client that asked, so this is how a correctly signed token with a
wrong audience or issuer reaches Larder's callback.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import authlib.deprecate  # noqa: F401 - installs authlib's "always" filter before ours below
import flask
import httpx2
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.jwt_helpers import segment_json

with warnings.catch_warnings():
    # The provider still imports authlib's deprecated JOSE module; not Larder's concern.
    warnings.simplefilter("ignore", DeprecationWarning)
    import oidc_provider_mock

WELL_KNOWN = "/.well-known/openid-configuration"


def _provider_signing_key(app: flask.Flask) -> RSAKey:
    """The provider's private key, read from its storage the way its own requests reach it."""
    with app.test_request_context():
        app.preprocess_request()  # runs the provider's before_request, which sets flask.g
        storage = flask.g.oidc_provider_mock_storage
        return RSAKey.import_key(storage.jwk.as_dict(is_private=True))


class IdTokenRewriter:
    """WSGI middleware: re-signs ID tokens from /oauth2/token with changed claims when armed."""

    def __init__(self, app: Any, signing_key: RSAKey) -> None:
        self.app = app
        self.provider_key = signing_key
        self.claim_changes: dict[str, Any] | None = None
        self.other_key: RSAKey | None = None

    def reset(self) -> None:
        self.claim_changes = None
        self.other_key = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        armed = self.claim_changes is not None or self.other_key is not None
        if not armed or environ.get("PATH_INFO") != "/oauth2/token":
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return lambda _data: None

        inner = self.app(environ, capture)
        try:
            body = b"".join(inner)
        finally:
            getattr(inner, "close", lambda: None)()
        answer = json.loads(body)
        if isinstance(answer, dict) and "id_token" in answer:
            answer["id_token"] = self._resign(answer["id_token"])
        new_body = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(new_body)))])
        return [new_body]

    def _resign(self, id_token: str) -> str:
        header_segment, claims_segment, _signature = id_token.split(".")
        header = {"alg": "RS256"}
        if "kid" in (original := segment_json(header_segment)):
            header["kid"] = original["kid"]
        claims = {**segment_json(claims_segment), **(self.claim_changes or {})}
        return jwt.encode(header, claims, self.other_key or self.provider_key)


@dataclass
class RunningProvider:
    base_url: str
    rewriter: IdTokenRewriter

    @property
    def discovery_url(self) -> str:
        return self.base_url + WELL_KNOWN

    def set_user(self, subject: str, **claims: Any) -> None:
        """The claims the provider reports for `subject` (email, email_verified, names...)."""
        response = httpx2.put(f"{self.base_url}/users/{subject}", json=claims)
        assert response.status_code == 204, response.text

    def consent(self, authorization_url: str, subject: str) -> str:
        """Open the authorization page and sign in as `subject`; the redirect back to Larder."""
        page = httpx2.get(authorization_url)
        assert page.status_code == 200, page.text
        assert 'name="sub"' in page.text
        answer = httpx2.post(authorization_url, data={"sub": subject})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def deny(self, authorization_url: str) -> str:
        answer = httpx2.post(authorization_url, data={"action": "deny"})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@contextmanager
def run_provider() -> Iterator[RunningProvider]:
    """The provider on a free port of 127.0.0.1, stopped (and its port closed) afterwards."""
    app = oidc_provider_mock.app(require_nonce=True)
    rewriter = IdTokenRewriter(app, _provider_signing_key(app))
    server = werkzeug.serving.make_server("127.0.0.1", 0, rewriter, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield RunningProvider(f"http://127.0.0.1:{server.server_port}", rewriter)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
