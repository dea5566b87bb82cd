"""Sending an email (an invitation link) through the SMTP server the settings name.
Without CRISIS_CT_SMTP_HOST nothing is sent, and the page shows the link to pass on."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Mapping

log = logging.getLogger(__name__)


def mail_configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def send_mail(config: Mapping, to: str, subject: str, body: str) -> bool:
    """True once the server accepted it; False when mail is not configured or sending failed
    (logged): the caller then shows what it would have sent."""
    if not mail_configured(config):
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], to, subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=20) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.warning("sending mail failed", exc_info=True)
        return False
    return True
