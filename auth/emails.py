"""Outgoing mail: SMTP when SMTP_HOST is set, otherwise the log (for local development).

Mail carries password reset tokens, so it goes over TLS with the server's certificate checked:
STARTTLS (SMTP_TLS, the default) or implicit TLS (SMTP_SSL). A login is never sent in the clear.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import urlencode

import aiosmtplib

from auth.settings import get_auth_settings, get_mail_settings
from shared.settings import get_app_settings

logger = logging.getLogger("larder.emails")


def password_reset_message(*, to: str, token: str) -> EmailMessage:
    minutes = get_auth_settings().password_reset_expire_minutes
    base = get_app_settings().frontend_url.rstrip("/")
    link = f"{base}/reset-password?{urlencode({'token': token})}"
    message = EmailMessage()
    message["Subject"] = "Reset your Larder password"
    message["From"] = get_mail_settings().emails_from
    message["To"] = to
    message.set_content(
        "Someone asked to reset the password of your Larder account.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n{link}\n\n"
        "The link works once. If you did not ask for this, ignore this email: "
        "your password stays as it is.\n"
    )
    return message


async def send(message: EmailMessage) -> None:
    """Deliver one message. Runs in a background task, after the response has gone: a failure
    is logged for operators, never raised."""
    settings = get_mail_settings()
    if not settings.smtp_host:
        if get_app_settings().environment == "production":
            # Mail carries tokens; production logs never do.
            logger.error("SMTP_HOST is not set; an email to %s was not sent", message["To"])
        else:
            logger.info(
                "SMTP_HOST is not set; email to %s:\n%s", message["To"], message.get_content()
            )
        return
    credentials = bool(settings.smtp_user and settings.smtp_password)
    if credentials and not settings.encrypted:
        logger.error(
            "SMTP_USER is set but SMTP_TLS and SMTP_SSL are off: the SMTP password is never sent "
            "over a plain connection; an email to %s was not sent",
            message["To"],
        )
        return
    try:
        # The certificate is verified (system CAs plus SMTP_CA_FILE) and must name SMTP_HOST.
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.port,
            username=settings.smtp_user if credentials else None,
            password=settings.smtp_password if credentials else None,
            use_tls=settings.smtp_ssl,
            start_tls=settings.smtp_tls and not settings.smtp_ssl,
            validate_certs=True,
            cert_bundle=settings.smtp_ca_file,
            timeout=settings.smtp_timeout_seconds,
        )
    except (OSError, aiosmtplib.SMTPException):
        # The caller already answered 202; a failed delivery is for operators, not clients.
        logger.exception("could not send email to %s", message["To"])


async def send_password_reset(*, to: str, token: str) -> None:
    await send(password_reset_message(to=to, token=token))
