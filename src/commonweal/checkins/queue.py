"""Durable work in rows: enqueue with a unique key, claim with a lease, sweep expired leases.

Claiming is one statement on both databases::

    UPDATE work_item SET status='leased', lease_until=:until, leased_by=:me, attempts=attempts+1
    WHERE id IN (SELECT id FROM work_item WHERE status='due' AND due_at <= :now
                 ORDER BY due_at LIMIT :n [FOR UPDATE SKIP LOCKED])
    RETURNING id

PostgreSQL gets ``FOR UPDATE SKIP LOCKED`` (several workers never claim the same row); SQLite runs it
inside the ``BEGIN IMMEDIATE`` transaction the engine issues, which serialises writers. The sweeper
returns rows whose lease expired to ``due`` (work items) or ``pending`` (outbox, flagged as a possible
duplicate because the crash may have come after the provider accepted the message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from commonweal.checkins.models import (
    Channel,
    OutboxMessage,
    OutboxStatus,
    RateBucket,
    WorkItem,
    WorkStatus,
)
from commonweal.db.statements import insert_ignore
from commonweal.ratelimit import take

__all__ = [
    "claim_outbox",
    "claim_work",
    "enqueue",
    "enqueue_message",
    "sweep_expired",
    "take_tokens",
]


def enqueue(session: Session, *, organisation_id: int, key: str, kind: str, ref_id: int,
            due_at: dt.datetime, arg: int | None = None) -> None:
    """Add a work item unless one with ``key`` exists (the key makes the work happen once)."""
    insert_ignore(session, WorkItem, {
        "organisation_id": organisation_id, "key": key, "kind": kind, "ref_id": ref_id,
        "arg": arg, "due_at": due_at, "status": WorkStatus.due, "attempts": 0}, ["key"])


def claim_work(session: Session, *, now: dt.datetime, worker_id: str, limit: int,
               lease: dt.timedelta) -> list[int]:
    """Lease up to ``limit`` due work items to ``worker_id``; returns their ids (oldest first)."""
    pick = (select(WorkItem.id)
            .where(WorkItem.status == WorkStatus.due, WorkItem.due_at <= now)
            .order_by(WorkItem.due_at, WorkItem.id).limit(limit)
            .with_for_update(skip_locked=True))
    stmt = (update(WorkItem).where(WorkItem.id.in_(pick.scalar_subquery()))
            .values(status=WorkStatus.leased, lease_until=now + lease, leased_by=worker_id,
                    attempts=WorkItem.attempts + 1)
            .returning(WorkItem.id, WorkItem.due_at)
            .execution_options(synchronize_session=False))
    rows = session.execute(stmt).all()
    return [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))]


def claim_outbox(session: Session, *, now: dt.datetime, limit: int, lease: dt.timedelta
                 ) -> list[int]:
    """Lease up to ``limit`` pending messages for sending (status ``sending``)."""
    pick = (select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.due_at <= now)
            .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True))
    stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(pick.scalar_subquery()))
            .values(status=OutboxStatus.sending, lease_until=now + lease, send_started_at=None)
            .returning(OutboxMessage.id, OutboxMessage.due_at)
            .execution_options(synchronize_session=False))
    rows = session.execute(stmt).all()
    return [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))]


def sweep_expired(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Return expired leases to the queue. Returns (work items, outbox messages) recovered.

    An outbox message whose lease expired after its hand-over to the provider had started
    (``send_started_at`` committed) may or may not have reached the provider: it is sent again
    (never lost) and flagged ``suspected_duplicate``. One whose hand-over never started is simply
    sent (no flag).
    """
    w = session.execute(
        update(WorkItem)
        .where(WorkItem.status == WorkStatus.leased, WorkItem.lease_until < now)
        .values(status=WorkStatus.due, leased_by=None, lease_until=None)
        .execution_options(synchronize_session=False))
    expired = and_(OutboxMessage.status == OutboxStatus.sending, OutboxMessage.lease_until < now)
    o1 = session.execute(
        update(OutboxMessage).where(expired, OutboxMessage.send_started_at.is_not(None))
        .values(status=OutboxStatus.pending, lease_until=None, suspected_duplicate=True,
                send_started_at=None)
        .execution_options(synchronize_session=False))
    o2 = session.execute(
        update(OutboxMessage).where(expired, OutboxMessage.send_started_at.is_(None))
        .values(status=OutboxStatus.pending, lease_until=None)
        .execution_options(synchronize_session=False))
    rc = int(o1.rowcount or 0) + int(o2.rowcount or 0)  # type: ignore[attr-defined]
    return int(w.rowcount or 0), rc  # type: ignore[attr-defined]


def take_tokens(session: Session, *, organisation_id: int, name: str, wanted: int,
                rate_per_second: float, burst: float, now: dt.datetime) -> int:
    """Take up to ``wanted`` tokens from the organisation's bucket ``name``; returns how many.

    Token bucket: ``tokens = min(burst, tokens + rate * elapsed)``; stored in the database so every
    worker process shares one limit per organisation.
    """
    return take(session, RateBucket, {"organisation_id": organisation_id, "name": name},
                unique=["organisation_id", "name"], wanted=wanted, rate=rate_per_second,
                burst=burst, now=now)


def ids_of(rows: Sequence[tuple[int, ...]]) -> list[int]:
    return [r[0] for r in rows]


def enqueue_message(session: Session, *, organisation_id: int, key: str, channel: Channel,
                    recipient: str, subject: str, body: str, now: dt.datetime,
                    recipient_user_id: int | None = None,
                    recipient_member_id: int | None = None) -> None:
    """Put a notification in the outbox, in the caller's transaction (it is sent by
    ``commonweal worker`` only if that transaction commits; ``key`` is unique, so the same event
    is never queued twice). ``{public_url}`` in the body becomes the worker's public address."""
    insert_ignore(session, OutboxMessage, {
        "organisation_id": organisation_id, "key": key, "channel": channel,
        "recipient": recipient, "recipient_user_id": recipient_user_id,
        "recipient_member_id": recipient_member_id, "subject": subject[:200], "body": body,
        "status": OutboxStatus.pending, "due_at": now, "attempts": 0, "created_at": now,
        "suspected_duplicate": False}, ["key"])

