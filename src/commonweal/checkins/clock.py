"""The check-in services' clock: see :mod:`commonweal.clock`."""

from commonweal.clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]
