"""Email over SMTP (standard library ``smtplib``), with optional STARTTLS and login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from commonweal.notify.base import DeliveryError, OutboundMessage, SendResult

__all__ = ["SmtpEmailNotifier"]


class SmtpEmailNotifier:
    """Send each message as one plain-text email. The message key goes into ``X-Commonweal-Key``
    (and the Message-ID) so a duplicate after a crash is recognisable downstream."""

    def __init__(self, host: str, port: int = 25, *, sender: str, starttls: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password, self.timeout = (
            starttls, username, password, timeout)

    def send(self, message: OutboundMessage) -> SendResult:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = message.recipient
        msg["Subject"] = message.subject
        idstring = "".join(ch if ch.isalnum() else "." for ch in message.key)[:40]
        msg_id = make_msgid(idstring=idstring, domain="commonweal")
        msg["Message-ID"] = msg_id
        msg["X-Commonweal-Key"] = message.key
        msg.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP failed: {exc}") from exc
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", permanent=True)
        return SendResult(msg_id)
