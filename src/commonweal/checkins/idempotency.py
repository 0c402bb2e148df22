"""Idempotent POSTs (``Idempotency-Key``), after Stripe and draft-ietf-httpapi-idempotency-key-header:
same key and body -> the stored response again; same key with another body -> 422; the first
request still in flight -> 409. The record is claimed in its own short transaction, the response is
stored in the SAME transaction as the work it describes, and errors the caller caused (4xx) are
stored and replayed too; an unexpected failure frees the key so the client can retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commonweal.checkins.models import IdempotencyRecord
from commonweal.db.engine import transaction
from commonweal.errors import CommonwealError, ConflictError, InputError, Problem

__all__ = ["IN_FLIGHT", "request_hash", "run_idempotent"]

IN_FLIGHT = dt.timedelta(seconds=60)  # a crashed request frees its key after this


def request_hash(method: str, path: str, body: Any) -> str:
    canon = json.dumps([method.upper(), path, body], sort_keys=True, default=str,
                       separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def _claim(factory: sessionmaker[Session], scope: str, key: str, digest: str, now: dt.datetime
           ) -> tuple[int, Any] | None:
    """Claim the key (returns None) or return the stored response; raises 422/409."""
    with transaction(factory) as s:
        rec = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                       IdempotencyRecord.key == key))
        if rec is None:
            try:
                with s.begin_nested():
                    s.add(IdempotencyRecord(scope=scope, key=key, request_hash=digest,
                                            in_flight_until=now + IN_FLIGHT, created_at=now))
                return None
            except IntegrityError:
                rec = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                               IdempotencyRecord.key == key))
                if rec is None:  # pragma: no cover - deleted between insert and read
                    raise ConflictError("this Idempotency-Key is in use; retry") from None
        if rec.request_hash != digest:
            raise InputError("this Idempotency-Key was used with a different request",
                             [Problem("reuse a key only for the same request",
                                      field="Idempotency-Key")])
        if rec.response_status is not None:
            return rec.response_status, rec.response_body
        if rec.in_flight_until is not None and rec.in_flight_until > now:
            raise ConflictError("a request with this Idempotency-Key is still in flight")
        taken = s.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.id == rec.id,
            IdempotencyRecord.in_flight_until == rec.in_flight_until)
            .values(in_flight_until=now + IN_FLIGHT)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if not taken:
            raise ConflictError("a request with this Idempotency-Key is still in flight")
        return None


def run_idempotent(session: Session, factory: sessionmaker[Session], *, scope: str,
                   key: str | None, digest: str, now: dt.datetime,
                   work: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """Run ``work`` (returns status and JSON body) at most once per (scope, key).

    ``session`` is the request's session: its current transaction is committed first (it has only
    read the caller's role) and the work then runs in a new one that also stores the response.
    """
    if not key:
        status, body = work()
        session.commit()
        return status, body
    if len(key) > 200:
        raise InputError("Idempotency-Key too long", [Problem("at most 200 characters",
                                                              field="Idempotency-Key")])
    session.commit()
    stored = _claim(factory, scope, key, digest, now)
    if stored is not None:
        return stored
    try:
        status, body = work()
    except CommonwealError as exc:
        session.rollback()
        with transaction(factory) as s:
            s.execute(update(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                      IdempotencyRecord.key == key)
                      .values(response_status=exc.status_code, in_flight_until=None,
                              response_body={"error": type(exc).__name__, "detail": exc.message})
                      .execution_options(synchronize_session=False))
        raise
    except BaseException:
        session.rollback()
        with transaction(factory) as s:
            s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                      IdempotencyRecord.key == key))
        raise
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                    IdempotencyRecord.key == key)
                    .values(response_status=status, response_body=body, in_flight_until=None)
                    .execution_options(synchronize_session=False))
    session.commit()
    return status, body
