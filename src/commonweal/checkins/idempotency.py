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
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from commonweal.checkins.models import IdempotencyRecord
from commonweal.db.engine import transaction
from commonweal.db.groupcommit import GroupCommitter
from commonweal.errors import CommonwealError, ConflictError, InputError, Problem

__all__ = ["IN_FLIGHT", "request_hash", "run_idempotent", "run_idempotent_batched"]

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


def _check_key(key: str) -> None:
    if len(key) > 200:
        raise InputError("Idempotency-Key too long", [Problem("at most 200 characters",
                                                              field="Idempotency-Key")])


def _store(session: Session, scope: str, key: str, status: int, body: Any) -> None:
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                    IdempotencyRecord.key == key)
                    .values(response_status=status, response_body=body, in_flight_until=None)
                    .execution_options(synchronize_session=False))


def _error_body(exc: CommonwealError) -> dict[str, Any]:
    return {"error": type(exc).__name__, "detail": exc.message}


def _release(factory: sessionmaker[Session], scope: str, key: str) -> None:
    with transaction(factory) as s:
        s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope,
                                                  IdempotencyRecord.key == key))


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
    _check_key(key)
    session.commit()
    stored = _claim(factory, scope, key, digest, now)
    if stored is not None:
        return stored
    try:
        status, body = work()
    except CommonwealError as exc:
        session.rollback()
        with transaction(factory) as s:
            _store(s, scope, key, exc.status_code, _error_body(exc))
        raise
    except BaseException:
        session.rollback()
        _release(factory, scope, key)
        raise
    _store(session, scope, key, status, body)
    session.commit()
    return status, body


class _Refused(NamedTuple):
    error: CommonwealError


async def run_idempotent_batched(committer: GroupCommitter, *, scope: str, key: str | None,
                                 digest: str, now: dt.datetime,
                                 work: Callable[[Session], tuple[int, Any]]) -> tuple[int, Any]:
    """:func:`run_idempotent` for work run by a :class:`GroupCommitter` (shared commits).

    The key is claimed in its own transaction first (so a second request sees it in flight); the
    work and its stored response then commit together in the batch. A refusal the caller caused
    (4xx) is stored with the key and replayed; a busy batch (nothing stored) frees the key.
    """
    if not key:
        return await committer.run(work)
    _check_key(key)
    factory = committer.factory
    stored = await run_in_threadpool(_claim, factory, scope, key, digest, now)
    if stored is not None:
        return stored

    def job(session: Session) -> tuple[int, Any] | _Refused:
        try:
            with session.begin_nested():
                status, body = work(session)
        except CommonwealError as exc:
            _store(session, scope, key, exc.status_code, _error_body(exc))
            return _Refused(exc)
        _store(session, scope, key, status, body)
        return status, body

    try:
        out = await committer.run(job)
    except BaseException:
        await run_in_threadpool(_release, factory, scope, key)
        raise
    if isinstance(out, _Refused):
        raise out.error
    return out
