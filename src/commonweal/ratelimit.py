"""Token buckets, the one formula every limit in commonweal uses (notification rates per
organisation, failed logins per email and per client).

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second:
``tokens(now) = min(burst, tokens(then) + rate * (now - then))``. Buckets live in database rows so
every process shares them; this module is only the arithmetic.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["refill", "seconds_until"]


def refill(tokens: float, updated_at: dt.datetime, now: dt.datetime, *, rate: float,
           burst: float) -> float:
    """The bucket's tokens at ``now`` (time going backwards refills nothing)."""
    elapsed = max(0.0, (now - updated_at).total_seconds())
    return min(burst, tokens + rate * elapsed)


def seconds_until(tokens: float, wanted: float, *, rate: float) -> float:
    """Seconds until ``wanted`` tokens are there (0 if they are now)."""
    if tokens >= wanted:
        return 0.0
    return (wanted - tokens) / rate if rate > 0 else float("inf")
