"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives: plain, STARTTLS or
implicit TLS, with a certificate from a test CA (trustme), optionally taking a login."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any, Literal

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SMTPSession

from shared.settings import clear_settings_caches
from tests.servers import free_port

Security = Literal["plain", "starttls", "implicit"]


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    # Whether each message arrived over TLS, in order.
    encrypted: list[bool] = field(default_factory=list)
    # (user, password) of every login attempt, successful or not.
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: SMTPSession, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        assert server.transport is not None
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted for delivery"

    def authenticate(
        self, _server: SMTP, _session: SMTPSession, _envelope: Envelope, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    def tokens_for(self, address: str) -> list[str]:
        found = []
        for message in self.messages:
            if message["To"] == address:
                body = message.get_payload(decode=True)
                assert isinstance(body, bytes)
                found += re.findall(r"token=([A-Za-z0-9._-]+)", body.decode())
        return found


@contextmanager
def run_mail_server(
    inbox: Inbox,
    *,
    security: Security = "plain",
    certificate: trustme.LeafCert | None = None,
) -> Iterator[int]:
    """Serve on a free loopback port (yielded) until the block ends.

    STARTTLS is required before any mail; a login is taken only over TLS, except on the
    plain server, which takes one in the clear (as a careless relay would).
    """
    server_context = None
    if security != "plain":
        assert certificate is not None
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(server_context)
    options: dict[str, Any] = {"authenticator": inbox.authenticate}
    if security == "starttls":
        options.update(tls_context=server_context, require_starttls=True)
    else:
        # Implicit TLS is encrypted from the first byte, which aiosmtpd does not see as TLS.
        options.update(auth_require_tls=False)
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_context if security == "implicit" else None,
        **options,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def point_mail_at(monkeypatch: pytest.MonkeyPatch, port: int, **settings: str) -> None:
    """Larder's mail settings for a server on loopback; `settings` add or override."""
    values = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_TLS": "false",
        "EMAILS_FROM": "Larder <larder@example.com>",
        **settings,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_settings_caches()
