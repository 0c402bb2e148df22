"""Notifiers: one protocol (:class:`Notifier`), SMTP email, signed webhooks, SMS through a provider
interface with an HTTP implementation, and an in-memory double for tests."""

from commonweal.notify.base import (
    DeliveryError,
    InMemoryNotifier,
    Notifier,
    OutboundMessage,
    RoutingNotifier,
    SendResult,
)
from commonweal.notify.email import SmtpEmailNotifier
from commonweal.notify.jsonl import JsonlNotifier
from commonweal.notify.sms import HttpSmsProvider, SmsNotifier, SmsProvider
from commonweal.notify.webhook import WebhookNotifier, sign_payload, verify_signature

__all__ = [
    "DeliveryError",
    "HttpSmsProvider",
    "InMemoryNotifier",
    "JsonlNotifier",
    "Notifier",
    "OutboundMessage",
    "RoutingNotifier",
    "SendResult",
    "SmsNotifier",
    "SmsProvider",
    "SmtpEmailNotifier",
    "WebhookNotifier",
    "sign_payload",
    "verify_signature",
]
