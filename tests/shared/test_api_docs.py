"""/docs and /redoc load everything from Larder, under a policy that allows nothing else."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

DOCS_PAGES = ["/docs", "/redoc", "/docs/oauth2-redirect"]
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}

_REFERENCE = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def _references(html: str) -> list[str]:
    return _REFERENCE.findall(html)


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_reference_nothing_outside_larder(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for reference in _references(response.text):
        assert reference.startswith("/") and not reference.startswith("//"), reference
    assert "https://" not in response.text and "http://" not in response.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_assets_a_docs_page_names_are_served(client: TestClient, path: str) -> None:
    references = _references(client.get(path).text)
    assert references, "the page names no script or style"

    for reference in references:
        response = client.get(reference)
        assert response.status_code == 200, reference
        suffix = "." + reference.split("?")[0].rsplit(".", 1)[1]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), reference
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_allow_only_larder_and_their_own_inline_scripts(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    policy = _policy(response.headers["content-security-policy"])

    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    # Only Larder's origin, hashes, and (for ReDoc's runtime styles and worker) inline styles
    # and blob:; never another host, a scheme wildcard or eval.
    allowed = {"'none'", "'self'", "'unsafe-inline'", "data:", "blob:"}
    for name, sources in policy.items():
        for source in sources:
            assert source in allowed or source.startswith("'sha256-"), (name, source)
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    # Every inline script the page holds is allowed by its hash, and no other.
    inline = _INLINE_SCRIPT.findall(response.text)
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in inline
    }
    assert set(scripts) == {"'self'", *hashes}


def test_swagger_ui_page_allows_no_inline_style(client: TestClient) -> None:
    policy = _policy(client.get("/docs").headers["content-security-policy"])
    assert policy["style-src"] == ["'self'"]
    assert "worker-src" not in policy


def test_swagger_ui_is_started_without_the_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text
