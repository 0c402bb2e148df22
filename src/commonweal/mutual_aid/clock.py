"""The mutual-aid services' clock: see :mod:`commonweal.clock` (claims lapse at a stored ``due_at``)."""

from commonweal.clock import SYSTEM_CLOCK, Clock, FakeClock, SystemClock

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock"]
