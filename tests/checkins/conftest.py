"""Fixtures for check-in tests: a fake clock, an in-memory notifier, and a worker pass helper."""

from __future__ import annotations

import datetime as dt

import pytest

from commonweal.checkins.clock import FakeClock
from commonweal.checkins.worker import WorkerConfig, run_once
from commonweal.notify.base import InMemoryNotifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC))


@pytest.fixture
def notifier() -> InMemoryNotifier:
    return InMemoryNotifier()


CONFIG = WorkerConfig(public_url="http://test", lease_seconds=30,
                      rate_per_second={"sms": 1000.0, "email": 1000.0, "webhook": 1000.0},
                      burst={"sms": 10000.0, "email": 10000.0, "webhook": 10000.0})


def drain(factory, notifier, clock, worker_id: str = "w1", crash=None, config=CONFIG):  # type: ignore[no-untyped-def]
    """One worker pass at the clock's current time."""
    return run_once(factory, notifier, clock, worker_id=worker_id, config=config, crash=crash)
