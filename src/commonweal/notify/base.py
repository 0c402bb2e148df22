"""The notifier protocol, the message, routing by channel, and the in-memory test double."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from commonweal.errors import CommonwealError

__all__ = [
    "DeliveryError",
    "InMemoryNotifier",
    "Notifier",
    "OutboundMessage",
    "RoutingNotifier",
    "SendResult",
]


class DeliveryError(CommonwealError):
    """A message could not be handed to its provider. ``permanent`` ones are not retried."""

    status_code = 502

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one recipient. ``key`` is stable across retries (providers may dedupe on it)."""

    channel: str  # "sms" | "email" | "webhook"
    recipient: str
    subject: str
    body: str
    key: str
    organisation_id: int | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class Notifier(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...


class RoutingNotifier:
    """Sends each message with the notifier registered for its channel."""

    def __init__(self, by_channel: Mapping[str, Notifier]) -> None:
        self.by_channel = dict(by_channel)

    def send(self, message: OutboundMessage) -> SendResult:
        notifier = self.by_channel.get(message.channel)
        if notifier is None:
            raise DeliveryError(f"no notifier configured for channel {message.channel!r}",
                                permanent=True)
        return notifier.send(message)


class InMemoryNotifier:
    """Records every message (thread-safe). ``fail_next`` makes the next n sends fail transiently;
    ``hook`` is called before recording (tests use it to crash a worker mid-send)."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail_next = 0
        self.hook: object = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def send(self, message: OutboundMessage) -> SendResult:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise DeliveryError("simulated provider outage")
            self.sent.append(message)
            return SendResult(f"mem-{next(self._ids)}")

    def keys(self) -> list[str]:
        with self._lock:
            return [m.key for m in self.sent]
