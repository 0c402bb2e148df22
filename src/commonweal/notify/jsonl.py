"""A development notifier: every message is appended (and fsynced) as one JSON line to a file, so a
machine without an SMS or mail account can run the whole flow and tests can count what was sent."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from commonweal.notify.base import OutboundMessage, SendResult

__all__ = ["JsonlNotifier"]


class JsonlNotifier:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendResult:
        line = json.dumps({"key": message.key, "channel": message.channel,
                           "recipient": message.recipient, "subject": message.subject,
                           "body": message.body, "organisation_id": message.organisation_id,
                           "metadata": dict(message.metadata)}, default=str)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        return SendResult(f"file:{message.key}")
