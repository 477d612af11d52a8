"""Working out who is calling: the client address behind trusted proxies.

One setting decides, `TRUSTED_PROXIES`, and one function, `forwarded_client`. When the
connection's peer is a trusted proxy, `TrustedProxyMiddleware` puts the client it names into the
request's scope (with the scheme from X-Forwarded-Proto), so throttles (`client_address`), the
access log and anything else reading `request.client` all see the same address. Otherwise the
client is the connection's peer and forwarding headers are ignored.

uvicorn's own proxy-header handling stays off (`make run`, serve.py): it decides by another
setting, `FORWARDED_ALLOW_IPS`, and rewrites the peer before Larder can see it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_SCHEMES = frozenset({"http", "https"})


def parse_networks(trusted_proxies: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted_proxies)


def _ip_of(hop: str) -> IPAddress | None:
    """The address in an X-Forwarded-For entry, with or without a port ("192.0.2.7:4711",
    "[2001:db8::7]:443", as some proxies write them)."""
    text = hop
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = _ip_of(address)
    return ip is not None and any(ip in network for network in networks)


def _normalised(hop: str) -> str:
    ip = _ip_of(hop)
    return hop if ip is None else str(ip)


def forwarded_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The client for a connection from `peer`: the peer itself unless it is trusted; behind
    trusted proxies, the nearest untrusted address in X-Forwarded-For (addresses a client wrote
    itself further left are ignored), without its port, in its canonical form."""
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return _normalised(hop)
    return _normalised(hops[0]) if hops else peer


def _header(scope: Scope, name: bytes) -> str:
    """Every value of a header, joined as one list (proxies may send several lines)."""
    return ", ".join(value.decode("latin-1") for key, value in scope["headers"] if key == name)


class TrustedProxyMiddleware:
    """Replaces the peer with the client a trusted proxy forwarded for, and the scheme with the
    one it says the client used. Installed only when `TRUSTED_PROXIES` names someone."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] == "http" and peer and _is_trusted(peer[0], self.networks):
            client = forwarded_client(peer[0], _header(scope, b"x-forwarded-for"), self.networks)
            scheme = _header(scope, b"x-forwarded-proto").rsplit(",", 1)[-1].strip().lower()
            scope = {
                **scope,
                "client": peer if client == peer[0] else (client, 0),
                "scheme": scheme if scheme in FORWARDED_SCHEMES else scope["scheme"],
            }
        await self.app(scope, receive, send)


def client_address(request: Request) -> str:
    """The client's address, as `TrustedProxyMiddleware` decided it."""
    return request.client.host if request.client else "unknown"
