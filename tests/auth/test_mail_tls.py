"""Mail goes over TLS with the server's certificate checked, STARTTLS or implicit TLS, against a
real SMTP server on loopback whose certificate comes from a test CA."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from fastapi.testclient import TestClient

from auth.settings import MailSettings
from tests.auth.mail_server import Inbox, Security, point_mail_at, run_mail_server
from tests.factories import make_user

REQUEST = "/api/v1/auth/password-reset/request"
ENCRYPTED: list[Security] = ["starttls", "implicit"]
USER, PASSWORD = "larder-mailer", "relay password"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("mail-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def certificate(ca: trustme.CA) -> trustme.LeafCert:
    """The server's certificate, for the address Larder connects to."""
    return ca.issue_cert("127.0.0.1", "localhost")


class Delivery:
    """Asks for a password reset while a mail server of the given kind runs; keeps what the
    server received and what Larder logged as failed."""

    def __init__(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.client, self.monkeypatch, self.caplog = client, monkeypatch, caplog
        self.inbox = Inbox()

    def reset(
        self,
        email: str,
        *,
        security: Security,
        certificate: trustme.LeafCert | None = None,
        **settings: str,
    ) -> Inbox:
        if security == "implicit":
            settings.setdefault("SMTP_SSL", "true")
        elif security == "starttls":
            settings.setdefault("SMTP_TLS", "true")
        make_user(email=email)
        with run_mail_server(self.inbox, security=security, certificate=certificate) as port:
            point_mail_at(self.monkeypatch, port, **settings)
            with self.caplog.at_level("ERROR", logger="larder.emails"):
                response = self.client.post(REQUEST, json={"email": email})
        # Mail goes after the response, so whatever happens to it the client gets its 202.
        assert response.status_code == 202
        return self.inbox

    def failures(self) -> list[str]:
        return [
            f"{record.getMessage()} {record.exc_text or ''}"
            for record in self.caplog.records
            if record.name == "larder.emails" and record.levelname == "ERROR"
        ]


@pytest.fixture
def delivery(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Delivery:
    return Delivery(client, monkeypatch, caplog)


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_server_whose_ca_is_not_trusted_gets_nothing(
    delivery: Delivery, certificate: trustme.LeafCert, security: Security
) -> None:
    inbox = delivery.reset("untrusted@example.com", security=security, certificate=certificate)

    assert inbox.messages == []
    (failure,) = delivery.failures()
    assert "untrusted@example.com" in failure
    assert "certificate verify failed" in failure


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_server_whose_ca_is_configured_gets_the_mail_encrypted(
    delivery: Delivery, certificate: trustme.LeafCert, ca_file: str, security: Security
) -> None:
    inbox = delivery.reset(
        "trusted@example.com", security=security, certificate=certificate, SMTP_CA_FILE=ca_file
    )

    assert delivery.failures() == []
    assert [message["To"] for message in inbox.messages] == ["trusted@example.com"]
    assert inbox.encrypted == [True]
    assert len(inbox.tokens_for("trusted@example.com")) == 1


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_certificate_for_another_host_is_refused(
    delivery: Delivery, ca: trustme.CA, ca_file: str, security: Security
) -> None:
    elsewhere = ca.issue_cert("mail.example.test")
    inbox = delivery.reset(
        "misnamed@example.com", security=security, certificate=elsewhere, SMTP_CA_FILE=ca_file
    )

    assert inbox.messages == []
    (failure,) = delivery.failures()
    assert "certificate verify failed" in failure


def test_a_missing_ca_file_is_logged_not_raised(
    delivery: Delivery, certificate: trustme.LeafCert, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    inbox = delivery.reset(
        "misconfigured@example.com",
        security="starttls",
        certificate=certificate,
        SMTP_CA_FILE=missing,
    )

    assert inbox.messages == []
    (failure,) = delivery.failures()
    assert "No such file" in failure


def test_a_server_that_offers_no_starttls_is_not_sent_mail_in_the_clear(
    delivery: Delivery,
) -> None:
    inbox = delivery.reset("downgraded@example.com", security="plain", SMTP_TLS="true")

    assert inbox.messages == []
    assert len(delivery.failures()) == 1


@pytest.mark.parametrize("security", ENCRYPTED)
def test_the_login_goes_over_tls(
    delivery: Delivery, certificate: trustme.LeafCert, ca_file: str, security: Security
) -> None:
    inbox = delivery.reset(
        "with-login@example.com",
        security=security,
        certificate=certificate,
        SMTP_CA_FILE=ca_file,
        SMTP_USER=USER,
        SMTP_PASSWORD=PASSWORD,
    )

    assert inbox.logins == [(USER, PASSWORD)]
    assert inbox.encrypted == [True]


def test_a_login_is_never_sent_over_a_plain_connection(
    delivery: Delivery, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = delivery.reset(
        "cleartext@example.com", security="plain", SMTP_USER=USER, SMTP_PASSWORD=PASSWORD
    )

    assert inbox.logins == []
    assert inbox.messages == []
    (failure,) = delivery.failures()
    assert "plain connection" in failure
    assert PASSWORD not in caplog.text


def test_the_port_follows_the_kind_of_tls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("SMTP_PORT", "SMTP_SSL"):
        monkeypatch.delenv(name, raising=False)
    assert MailSettings().port == 587
    assert MailSettings(smtp_ssl=True).port == 465
    assert MailSettings(smtp_ssl=True, smtp_port=2465).port == 2465
