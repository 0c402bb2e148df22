"""The worker: claim due work with a lease, act and complete in one transaction, send the outbox.

One pass (:func:`run_once`):

1. sweep: expired leases go back to the queue (outbox rows flagged ``suspected_duplicate``);
2. work items: claim a batch; each is handled and marked done in ONE transaction, so its database
   effects happen exactly once even if the worker dies at any point (a dead worker's lease expires
   and another pass redoes the whole transaction);
3. outbox: claim a batch (``sending``, lease), fill in fresh single-use links, apply the
   per-organisation rate limits, hand each message to the notifier, mark it ``sent``. A crash
   between the provider's acceptance and the mark is the only way to send twice, and that resend
   is flagged.

:func:`run_worker` loops until ``stop_event`` is set; ``commonweal worker`` is a thin shell over it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from commonweal.checkins import safety, service
from commonweal.checkins.clock import Clock
from commonweal.checkins.escalation import note_failed_delivery, run_tier
from commonweal.checkins.links import issue_link
from commonweal.checkins.models import (
    LinkPurpose,
    OutboxMessage,
    OutboxStatus,
    WorkItem,
    WorkStatus,
)
from commonweal.checkins.queue import claim_outbox, claim_work, sweep_expired, take_tokens
from commonweal.db.engine import transaction
from commonweal.mutual_aid import workflow as aid_workflow
from commonweal.notify.base import DeliveryError, Notifier, OutboundMessage

__all__ = ["PassStats", "WorkerConfig", "make_worker_id", "run_once", "run_worker"]

log = logging.getLogger("commonweal.worker")

CrashHook = Callable[[str, int], None]
_LINK_PATH = {LinkPurpose.answer: "/respond", LinkPurpose.acknowledge: "/ack",
              LinkPurpose.safety: "/safe"}


@dataclass(frozen=True)
class WorkerConfig:
    public_url: str = "http://127.0.0.1:8000"
    batch: int = 200
    lease_seconds: float = 60.0
    poll_interval: float = 0.5
    max_send_attempts: int = 8
    # per organisation and channel, shared by all workers (token bucket in the database)
    rate_per_second: dict[str, float] = field(
        default_factory=lambda: {"sms": 20.0, "email": 50.0, "webhook": 50.0})
    burst: dict[str, float] = field(
        default_factory=lambda: {"sms": 200.0, "email": 500.0, "webhook": 500.0})


@dataclass
class PassStats:
    swept_work: int = 0
    swept_outbox: int = 0
    work_done: int = 0
    sent: int = 0
    send_failures: int = 0
    deferred: int = 0
    aid_claims_expired: int = 0
    aid_takeovers_approved: int = 0

    @property
    def busy(self) -> bool:
        """Did the pass do anything? (Messages only deferred by a rate limit do not count: the
        next pass can wait for them.)"""
        return any(getattr(self, f.name) for f in fields(self) if f.name != "deferred")

    def add(self, other: PassStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def make_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _handle(session: Session, item: WorkItem, now: dt.datetime) -> str:
    if item.kind == "plan_open":
        return service.open_plan_occurrence(session, plan_id=item.ref_id, opens_at=item.due_at,
                                            now=now)
    if item.kind == "deadline":
        return service.mark_missed(session, checkin_id=item.ref_id, due_at=item.due_at, now=now)
    if item.kind == "escalate":
        return run_tier(session, alert_id=item.ref_id, tier=int(item.arg or 0), now=now)
    if item.kind == "index_uncertainty":
        from commonweal.indicators.runs import run_uncertainty_job  # SciPy/polars: on first use

        return run_uncertainty_job(session, organisation_id=item.organisation_id,
                                   run_id=item.ref_id, now=now)
    if item.kind == "safety_reminder":
        return safety.send_reminders(session, check_id=item.ref_id, round_no=int(item.arg or 1),
                                     now=now)
    raise ValueError(f"unknown work kind {item.kind!r}")


def _process_item(factory: sessionmaker[Session], item_id: int, worker_id: str, clock: Clock,
                  crash: CrashHook | None) -> bool:
    try:
        with transaction(factory) as s:
            item = s.get(WorkItem, item_id, with_for_update=True)
            if item is None or item.status != WorkStatus.leased or item.leased_by != worker_id:
                return False  # our lease expired and someone else has it
            now = clock.now()
            outcome = _handle(s, item, now)
            if crash is not None:
                crash("work_before_commit", item_id)
            item.status, item.done_at, item.lease_until = WorkStatus.done, now, None
            item.last_error = outcome[:500]
        return True
    except Exception as exc:
        if crash is not None and type(exc).__name__ == "SimulatedCrash":
            raise
        log.exception("work item %s failed; it will be retried", item_id)
        with transaction(factory) as s:
            item = s.get(WorkItem, item_id)
            if item is not None and item.status == WorkStatus.leased:
                backoff = min(300.0, 2.0 ** min(item.attempts, 8))
                item.status, item.leased_by, item.lease_until = WorkStatus.due, None, None
                item.due_at = clock.now() + dt.timedelta(seconds=backoff)
                item.last_error = f"{type(exc).__name__}: {exc}"[:500]
        return False


def _prepare_outbox(s: Session, ids: list[int], now: dt.datetime, config: WorkerConfig
                    ) -> tuple[list[tuple[int, OutboundMessage]], int]:
    rows = [s.get(OutboxMessage, i) for i in ids]
    msgs = [m for m in rows if m is not None]
    groups: dict[tuple[int, str], list[OutboxMessage]] = defaultdict(list)
    for m in msgs:
        groups[(m.organisation_id, str(m.channel))].append(m)
    ready: list[tuple[int, OutboundMessage]] = []
    deferred = 0
    for (org, channel), group in groups.items():
        rate = config.rate_per_second.get(channel, 10.0)
        granted = take_tokens(s, organisation_id=org, name=channel, wanted=len(group),
                              rate_per_second=rate, burst=config.burst.get(channel, 100.0),
                              now=now)
        for k, m in enumerate(group):
            if k >= granted:  # over the organisation's limit: later, never dropped
                m.status, m.lease_until = OutboxStatus.pending, None
                m.due_at = now + dt.timedelta(seconds=(k - granted + 1) / rate)
                deferred += 1
                continue
            body = m.body.replace("{public_url}", config.public_url)
            if m.link_purpose is not None:
                ref = m.alert_id or m.checkin_id or m.safety_target_id or 0
                token = issue_link(s, organisation_id=m.organisation_id,
                                   purpose=m.link_purpose, ref_id=ref, now=now,
                                   member_id=m.recipient_member_id, user_id=m.recipient_user_id)
                body = body.replace("{link}", f"{config.public_url}{_LINK_PATH[m.link_purpose]}"
                                              f"?t={token}")
            ready.append((m.id, OutboundMessage(
                channel=str(m.channel), recipient=m.recipient, subject=m.subject, body=body,
                key=m.key, organisation_id=m.organisation_id,
                metadata={"alert_id": m.alert_id, "tier": m.tier,
                          "suspected_duplicate": m.suspected_duplicate})))
    return ready, deferred


def _send_one(factory: sessionmaker[Session], notifier: Notifier, clock: Clock, outbox_id: int,
              msg: OutboundMessage, config: WorkerConfig, crash: CrashHook | None) -> bool:
    with transaction(factory) as s:  # record the attempt BEFORE the hand-over
        started = s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.sending)
            .values(send_started_at=clock.now(), attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if not started:
        return False
    if crash is not None:
        crash("before_send", outbox_id)
    try:
        result = notifier.send(msg)
    except DeliveryError as exc:
        with transaction(factory) as s:
            m = s.get(OutboxMessage, outbox_id)
            if m is not None and m.status == OutboxStatus.sending:
                m.last_error = str(exc)[:500]
                if exc.permanent or m.attempts >= config.max_send_attempts:
                    m.status = OutboxStatus.failed
                    s.flush()
                    if note_failed_delivery(s, m, clock.now()):
                        log.error("alert %s has reached nobody: every message failed (last: %s)",
                                  m.alert_id, m.last_error)
                else:
                    m.status, m.lease_until = OutboxStatus.pending, None
                    m.due_at = clock.now() + dt.timedelta(seconds=min(600, 2 ** m.attempts))
        return False
    if crash is not None:
        crash("after_send", outbox_id)
    with transaction(factory) as s:
        s.execute(update(OutboxMessage)
                  .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.sending)
                  .values(status=OutboxStatus.sent, sent_at=clock.now(), lease_until=None,
                          provider_id=result.provider_id[:100])
                  .execution_options(synchronize_session=False))
    return True


def _release_work(factory: sessionmaker[Session], worker_id: str) -> None:
    """Give back this worker's unstarted leases at shutdown (no wait for them to expire)."""
    with transaction(factory) as s:
        s.execute(update(WorkItem)
                  .where(WorkItem.status == WorkStatus.leased, WorkItem.leased_by == worker_id)
                  .values(status=WorkStatus.due, leased_by=None, lease_until=None)
                  .execution_options(synchronize_session=False))


def _release_outbox(factory: sessionmaker[Session], ids: list[int]) -> None:
    if not ids:
        return
    with transaction(factory) as s:
        s.execute(update(OutboxMessage)
                  .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.sending,
                         OutboxMessage.send_started_at.is_(None))
                  .values(status=OutboxStatus.pending, lease_until=None)
                  .execution_options(synchronize_session=False))


def _sweep_mutual_aid(factory: sessionmaker[Session], clock: Clock, stats: PassStats) -> None:
    """Mutual aid's time-driven work: stale claims go back to the board, unanswered take-over
    requests are approved (one transaction per organisation)."""
    with transaction(factory) as s:
        orgs = aid_workflow.organisations_with_due_sweeps(s, now=clock.now())
    for org in orgs:
        with transaction(factory) as s:
            done = aid_workflow.sweep(s, organisation_id=org, clock=clock)
        stats.aid_claims_expired += len(done.expired_claims)
        stats.aid_takeovers_approved += len(done.auto_approved_takeovers)


def run_once(factory: sessionmaker[Session], notifier: Notifier, clock: Clock, *,
             worker_id: str, config: WorkerConfig | None = None,
             crash: CrashHook | None = None, stop: threading.Event | None = None) -> PassStats:
    """One pass of the worker (see the module docstring). ``crash`` is a test hook; ``stop`` ends
    the pass after the batch in hand (claimed but unstarted rows wait for their lease to expire)."""
    config = config or WorkerConfig()
    stats = PassStats()
    lease = dt.timedelta(seconds=config.lease_seconds)
    with transaction(factory) as s:
        stats.swept_work, stats.swept_outbox = sweep_expired(s, now=clock.now())
    _sweep_mutual_aid(factory, clock, stats)
    while True:  # work until none is due (an item may make another due at once)
        with transaction(factory) as s:
            ids = claim_work(s, now=clock.now(), worker_id=worker_id, limit=config.batch,
                             lease=lease)
        if not ids:
            break
        for item_id in ids:
            if stop is not None and stop.is_set():
                _release_work(factory, worker_id)
                return stats
            if crash is not None:
                crash("work_claimed", item_id)
            stats.work_done += _process_item(factory, item_id, worker_id, clock, crash)
    while True:
        with transaction(factory) as s:
            now = clock.now()
            ids = claim_outbox(s, now=now, limit=config.batch, lease=lease)
            ready, deferred = _prepare_outbox(s, ids, now, config)
        stats.deferred += deferred
        if not ready or (stop is not None and stop.is_set()):
            _release_outbox(factory, [i for i, _ in ready])
            break
        for k, (outbox_id, msg) in enumerate(ready):
            if stop is not None and stop.is_set():
                _release_outbox(factory, [i for i, _ in ready[k:]])
                return stats
            if _send_one(factory, notifier, clock, outbox_id, msg, config, crash):
                stats.sent += 1
            else:
                stats.send_failures += 1
    return stats


def run_worker(factory: sessionmaker[Session], notifier: Notifier, clock: Clock,
               stop_event: threading.Event, *, config: WorkerConfig | None = None,
               once: bool = False, worker_id: str | None = None,
               on_pass: Callable[[PassStats], None] | None = None) -> PassStats:
    """Run passes until ``stop_event`` is set (or one pass with ``once``); returns the totals."""
    config = config or WorkerConfig()
    worker_id = worker_id or make_worker_id()
    total = PassStats()
    while not stop_event.is_set():
        try:
            st = run_once(factory, notifier, clock, worker_id=worker_id, config=config,
                          stop=stop_event)
        except OperationalError as exc:  # busy (SQLite's write lock) or the database went away
            log.warning("worker pass: database unavailable (%s); retrying",
                        str(exc.orig).splitlines()[0] if exc.orig else exc)
            st = PassStats()
            if once:
                raise
        except Exception:  # a bug: log it in full, wait, try again
            log.exception("worker pass failed; retrying")
            st = PassStats()
            if once:
                raise
        total.add(st)
        if on_pass is not None:
            on_pass(st)
        if once:
            break
        if not st.busy:
            stop_event.wait(config.poll_interval)
    return total
