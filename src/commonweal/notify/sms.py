"""SMS through a provider interface, with one HTTP implementation in the shape most SMS APIs share
(Twilio's ``POST /Accounts/{sid}/Messages.json`` with form fields ``To``, ``From``, ``Body``, HTTP
basic auth, and a JSON answer carrying the message ``sid``)."""

from __future__ import annotations

from typing import Protocol

import httpx

from commonweal.notify.base import DeliveryError, OutboundMessage, SendResult

__all__ = ["HttpSmsProvider", "SmsNotifier", "SmsProvider"]

SMS_MAX_CHARS = 1600  # providers split long texts into segments; beyond this most refuse


class SmsProvider(Protocol):
    def send_sms(self, to: str, body: str, *, idempotency_key: str) -> str: ...


class HttpSmsProvider:
    def __init__(self, base_url: str, account_sid: str, auth_token: str, sender: str, *,
                 timeout: float = 10.0, client: httpx.Client | None = None) -> None:
        self.url = f"{base_url.rstrip('/')}/Accounts/{account_sid}/Messages.json"
        self.auth = (account_sid, auth_token)
        self.sender = sender
        self.client = client or httpx.Client(timeout=timeout)

    def send_sms(self, to: str, body: str, *, idempotency_key: str) -> str:
        try:
            r = self.client.post(self.url, auth=self.auth,
                                 data={"To": to, "From": self.sender, "Body": body},
                                 headers={"Idempotency-Key": idempotency_key})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS provider unreachable: {exc}") from exc
        if r.status_code == 429 or r.status_code >= 500:
            raise DeliveryError(f"SMS provider answered {r.status_code}")
        if r.status_code >= 400:
            raise DeliveryError(f"SMS provider refused ({r.status_code}): {r.text[:200]}",
                                permanent=True)
        sid = r.json().get("sid")
        if not sid:
            raise DeliveryError("SMS provider answered without a message id")
        return str(sid)


class SmsNotifier:
    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def send(self, message: OutboundMessage) -> SendResult:
        text = message.body if len(message.body) <= SMS_MAX_CHARS else (
            message.body[: SMS_MAX_CHARS - 1] + "…")
        return SendResult(self.provider.send_sms(message.recipient, text,
                                                 idempotency_key=message.key))
