"""Outgoing mail: SMTP when SMTP_HOST is set, otherwise the log (for local development)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlencode

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


def send(message: EmailMessage) -> None:
    """Deliver one message. Runs in a background task, after the response has gone."""
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
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_tls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        # The caller already answered 202; a failed delivery is for operators, not clients.
        logger.exception("could not send email to %s", message["To"])


def send_password_reset(*, to: str, token: str) -> None:
    send(password_reset_message(to=to, token=token))
