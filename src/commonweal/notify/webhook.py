"""Signed webhooks: a JSON POST with ``Commonweal-Signature: t=<unix>,v1=<hex HMAC-SHA256>`` over
``"<t>.<body>"`` (the scheme Stripe documents for its webhooks), so receivers can verify origin and
reject replays older than a tolerance."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from commonweal.notify.base import DeliveryError, OutboundMessage, SendResult

__all__ = ["WebhookNotifier", "sign_payload", "verify_signature"]


def sign_payload(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, *, now: float | None = None,
                     tolerance_seconds: int = 300) -> bool:
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign_payload(secret, body, ts), header)


class WebhookNotifier:
    def __init__(self, url: str, secret: str, *, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.url, self.secret = url, secret
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: OutboundMessage) -> SendResult:
        body = json.dumps({"key": message.key, "recipient": message.recipient,
                           "subject": message.subject, "text": message.body,
                           "organisation_id": message.organisation_id,
                           **dict(message.metadata.items())},
                          sort_keys=True, default=str).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key,
                   "Commonweal-Signature": sign_payload(self.secret, body, int(time.time()))}
        try:
            r = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook failed: {exc}") from exc
        if r.status_code >= 500 or r.status_code == 429:
            raise DeliveryError(f"webhook answered {r.status_code}")
        if r.status_code >= 400:
            raise DeliveryError(f"webhook refused with {r.status_code}", permanent=True)
        return SendResult(r.headers.get("x-request-id", f"webhook-{r.status_code}"))
