"""Token buckets, the one formula every limit in commonweal uses (notification rates per
organisation, failed logins per email and per client).

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens per second:
``tokens(now) = min(burst, tokens(then) + rate * (now - then))``. Buckets live in database rows so
every process shares them: :func:`take` creates a bucket full on first use (safe when two
transactions meet a new bucket at once) and takes from it under a row lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commonweal.db.statements import insert_ignore

__all__ = ["refill", "seconds_until", "take"]


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


def take(session: Session, model: type[Any], match: Mapping[str, Any], *, unique: Sequence[str],
         wanted: int, rate: float, burst: float, now: dt.datetime) -> int:
    """Take up to ``wanted`` whole tokens from the bucket row of ``model`` that ``match`` names
    (columns ``tokens`` and ``updated_at``); returns how many were granted."""
    insert_ignore(session, model, {**match, "tokens": burst, "updated_at": now}, unique)
    row = session.scalars(select(model).filter_by(**match).with_for_update()).one()
    tokens = refill(row.tokens, row.updated_at, now, rate=rate, burst=burst)
    granted = int(min(wanted, tokens))
    row.tokens, row.updated_at = tokens - granted, now
    return granted

