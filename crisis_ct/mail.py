"""Sending an email through the SMTP server the settings name (stdlib smtplib).

The server is named by CRISIS_CT_SMTP_URL (`smtp://user:pass@host:587` with STARTTLS,
`smtps://user:pass@host:465` with TLS from the start, `smtp://host:25?starttls=off` for a
relay on a trusted network), or by the older CRISIS_CT_SMTP_HOST, _PORT, _USER, _PASSWORD and
_STARTTLS. Without either nothing is sent: invitation pages then show the link to pass on,
and notifications stay in the app."""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str = ""
    password: str = ""
    security: str = "starttls"  # starttls | tls | none


def parse_smtp_url(url: str) -> SmtpServer:
    """An SMTP URL as SmtpServer; ValueError with the reason when it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("CRISIS_CT_SMTP_URL must look like smtp://[user:pass@]host[:port] or smtps://…")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "smtps":
        security = "tls"
    else:
        security = "starttls" if options.get("starttls", "on").lower() in _TRUE else "none"
    port = parts.port or (465 if security == "tls" else 587)
    return SmtpServer(host=parts.hostname, port=port, user=unquote(parts.username or ""),
                      password=unquote(parts.password or ""), security=security)


def smtp_server(config: Mapping) -> SmtpServer | None:
    if config.get("SMTP_URL"):
        return parse_smtp_url(config["SMTP_URL"])
    if config.get("SMTP_HOST"):
        return SmtpServer(host=config["SMTP_HOST"], port=int(config.get("SMTP_PORT") or 587),
                          user=config.get("SMTP_USER") or "", password=config.get("SMTP_PASSWORD") or "",
                          security="starttls" if config.get("SMTP_STARTTLS") else "none")
    return None


def mail_configured(config: Mapping) -> bool:
    return bool(config.get("SMTP_URL") or config.get("SMTP_HOST"))


def build_message(config: Mapping, to: str, subject: str, body: str, *, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], to, subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message


def deliver(server: SmtpServer, message: EmailMessage, *, timeout: float = 20) -> None:
    """Hands the message to the server; raises OSError or smtplib.SMTPException when it was
    not accepted. Never sends a password over a connection without TLS."""
    context = ssl.create_default_context()
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    with smtp:
        if server.security == "starttls":
            smtp.starttls(context=context)
        if server.user:
            if server.security == "none":
                raise smtplib.SMTPException("refusing to send the SMTP password without TLS")
            smtp.login(server.user, server.password)
        smtp.send_message(message)


def send_mail(config: Mapping, to: str, subject: str, body: str) -> bool:
    """True once the server accepted it; False when mail is not configured or sending failed
    (logged): the caller then shows what it would have sent."""
    if not mail_configured(config):
        return False
    try:
        deliver(smtp_server(config), build_message(config, to, subject, body))
    except (OSError, ValueError, smtplib.SMTPException):
        log.warning("sending mail failed", exc_info=True)
        return False
    return True
