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


def tls_settings(security: Security) -> dict[str, str]:
    if security == "implicit":
        return {"SMTP_SSL": "true"}
    return {"SMTP_TLS": "true"}


def request_reset(client: TestClient, email: str) -> None:
    make_user(email=email)
    response = client.post(REQUEST, json={"email": email})
    # Mail goes after the response, so whatever happens to it the client gets its 202.
    assert response.status_code == 202


def delivery_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.name == "larder.emails" and record.levelname == "ERROR"
    ]


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_server_whose_ca_is_not_trusted_gets_nothing(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    certificate: trustme.LeafCert,
    security: Security,
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security=security, certificate=certificate) as port:
        point_mail_at(monkeypatch, port, **tls_settings(security))
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "untrusted@example.com")

    assert inbox.messages == []
    (failure,) = delivery_failures(caplog)
    assert "untrusted@example.com" in failure
    assert "certificate verify failed" in failure


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_server_whose_ca_is_configured_gets_the_mail_encrypted(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    certificate: trustme.LeafCert,
    ca_file: str,
    security: Security,
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security=security, certificate=certificate) as port:
        point_mail_at(monkeypatch, port, SMTP_CA_FILE=ca_file, **tls_settings(security))
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "trusted@example.com")

    assert delivery_failures(caplog) == []
    assert [message["To"] for message in inbox.messages] == ["trusted@example.com"]
    assert inbox.encrypted == [True]
    assert len(inbox.tokens_for("trusted@example.com")) == 1


@pytest.mark.parametrize("security", ENCRYPTED)
def test_a_certificate_for_another_host_is_refused(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    ca: trustme.CA,
    ca_file: str,
    security: Security,
) -> None:
    elsewhere = ca.issue_cert("mail.example.test")
    inbox = Inbox()
    with run_mail_server(inbox, security=security, certificate=elsewhere) as port:
        point_mail_at(monkeypatch, port, SMTP_CA_FILE=ca_file, **tls_settings(security))
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "misnamed@example.com")

    assert inbox.messages == []
    (failure,) = delivery_failures(caplog)
    assert "certificate verify failed" in failure


def test_a_missing_ca_file_is_logged_not_raised(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    certificate: trustme.LeafCert,
    tmp_path: Path,
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security="starttls", certificate=certificate) as port:
        missing = str(tmp_path / "no-such-ca.pem")
        point_mail_at(monkeypatch, port, SMTP_TLS="true", SMTP_CA_FILE=missing)
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "misconfigured@example.com")

    assert inbox.messages == []
    (failure,) = delivery_failures(caplog)
    assert "No such file" in failure


def test_a_server_that_offers_no_starttls_is_not_sent_mail_in_the_clear(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security="plain") as port:
        point_mail_at(monkeypatch, port, SMTP_TLS="true")
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "downgraded@example.com")

    assert inbox.messages == []
    assert len(delivery_failures(caplog)) == 1


@pytest.mark.parametrize("security", ENCRYPTED)
def test_the_login_goes_over_tls(
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    certificate: trustme.LeafCert,
    ca_file: str,
    security: Security,
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security=security, certificate=certificate) as port:
        point_mail_at(
            monkeypatch,
            port,
            SMTP_CA_FILE=ca_file,
            SMTP_USER="larder-mailer",
            SMTP_PASSWORD="relay password",
            **tls_settings(security),
        )
        request_reset(client, "with-login@example.com")

    assert inbox.logins == [("larder-mailer", "relay password")]
    assert inbox.encrypted == [True]


def test_a_login_is_never_sent_over_a_plain_connection(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()
    with run_mail_server(inbox, security="plain") as port:
        point_mail_at(monkeypatch, port, SMTP_USER="larder-mailer", SMTP_PASSWORD="relay password")
        with caplog.at_level("ERROR", logger="larder.emails"):
            request_reset(client, "cleartext@example.com")

    assert inbox.logins == []
    assert inbox.messages == []
    (failure,) = delivery_failures(caplog)
    assert "plain connection" in failure
    assert "relay password" not in caplog.text


def test_the_port_follows_the_kind_of_tls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("SMTP_PORT", "SMTP_SSL"):
        monkeypatch.delenv(name, raising=False)
    assert MailSettings().port == 587
    assert MailSettings(smtp_ssl=True).port == 465
    assert MailSettings(smtp_ssl=True, smtp_port=2465).port == 2465
