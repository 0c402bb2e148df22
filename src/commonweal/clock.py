"""The one clock every domain asks for the time (never ``datetime.now`` directly), so tests and
simulations can move it. Time-driven work is stored as ``due_at`` in rows and compared with
``clock.now()``; nothing waits in memory."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FakeClock:
    """A clock that moves only when told to (thread-safe)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds, minutes=minutes, hours=hours)
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when


SYSTEM_CLOCK = SystemClock()
