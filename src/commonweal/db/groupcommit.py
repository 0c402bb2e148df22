"""Group commit: many small write jobs from concurrent requests share one transaction.

Under a surge (a whole district answering "are you safe?" at once), the cost of a tiny write is
mostly the transaction around it: taking SQLite's write lock or a PostgreSQL connection, and the
commit. A :class:`GroupCommitter` owns one writer thread per process. Requests hand it a job (a
function of a :class:`~sqlalchemy.orm.Session`); the thread takes every job that is waiting, runs
them all inside ONE transaction, commits, and only then answers each request. Jobs first run
without savepoints (two statements fewer each); if one of them fails, the batch is rolled back and
run again with a savepoint around each job, so only the failing job is undone.

Guarantees:

* a job's answer is given only after the commit that stored it (an acknowledged write is durable
  as far as the database's commit is);
* a job that raises is rolled back to its savepoint alone; the other jobs of the batch still
  commit, and the failing job's request gets its own error;
* if the batch cannot begin or commit (SQLite's write lock not free within the busy timeout, a
  lost PostgreSQL connection), nothing of it is stored and every job gets :class:`BusyError`
  (a 503 asking for a retry);
* a job that waited longer than ``max_wait`` before its batch started is not run and gets
  :class:`BusyError`, as does a job offered while ``max_queue`` jobs are already waiting: overload
  is refused fast instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from commonweal.db.engine import transaction
from commonweal.errors import BusyError, CommonwealError

__all__ = ["GroupCommitter"]

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job(Generic[T]):
    fn: Callable[[Session], T]
    future: Future[T]
    offered: float = field(default_factory=time.monotonic)


_STOP = object()


class GroupCommitter:
    """Run write jobs in shared transactions on one writer thread (see the module docstring).

    Parameters
    ----------
    factory
        Where the writer's sessions come from.
    max_batch
        At most this many jobs per transaction.
    max_wait
        Seconds a job may wait for its batch before it is refused as busy.
    max_queue
        Jobs allowed to wait at once; beyond that a new job is refused at once.
    """

    def __init__(self, factory: sessionmaker[Session], *, max_batch: int = 256,
                 max_wait: float = 0.25, max_queue: int = 4096) -> None:
        self.factory = factory
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.jobs = 0

    # -- submitting ------------------------------------------------------------------------------
    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        """Queue ``fn``; the future holds its result once the batch committed (or its error)."""
        future: Future[T] = Future()
        if self._queue.qsize() >= self.max_queue:
            future.set_exception(_busy())
            return future
        self._ensure_thread()
        self._queue.put(_Job(fn, future))
        return future

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Await ``fn``'s committed result from async code."""
        return await asyncio.wrap_future(self.submit(fn))

    def close(self, timeout: float = 10.0) -> None:
        """Finish the jobs already queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    # -- the writer ------------------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="group-commit",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job[Any]] = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._run(batch)
            if stop:
                return

    def _run(self, batch: list[_Job[Any]]) -> None:
        started = time.monotonic()
        live: list[_Job[Any]] = []
        for job in batch:
            if not job.future.set_running_or_notify_cancel():
                continue  # the caller gave up (client gone) before the job started
            if started - job.offered > self.max_wait:
                job.future.set_exception(_busy())
                continue
            live.append(job)
        if not live:
            return
        try:
            # Optimistic first: no savepoints (two statements fewer per job). If a job of a batch
            # fails, the batch is rolled back and run again with a savepoint around each job.
            done = self._attempt(live, savepoints=False)
            if done is None:
                done = self._attempt(live, savepoints=True)
        except (OperationalError, DBAPIError) as exc:
            log.warning("group commit of %d jobs failed, none stored: %s", len(live), exc)
            done = [(job, False, _busy()) for job in live]
        except BaseException as exc:  # pragma: no cover - keep the writer alive whatever happens
            log.exception("group commit failed")
            done = [(job, False, exc) for job in live]
        else:
            self.batches += 1
            self.jobs += len(live)
        for job, ok, value in done or ():
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _attempt(self, live: list[_Job[Any]], *, savepoints: bool
                 ) -> list[tuple[_Job[Any], bool, Any]] | None:
        """Run the jobs in one transaction and commit. Without savepoints a failing job undoes
        the transaction: a lone job then reports its error, a batch returns None (run again)."""
        done: list[tuple[_Job[Any], bool, Any]] = []
        with transaction(self.factory) as session:
            session.connection()  # begin now: SQLite takes its write lock here (BEGIN IMMEDIATE)
            for job in live:
                try:
                    if savepoints:
                        with session.begin_nested():
                            value = job.fn(session)
                    else:
                        value = job.fn(session)
                except Exception as exc:
                    if not savepoints:
                        session.rollback()  # nothing is left for the transaction to commit
                        return [(job, False, _job_error(exc))] if len(live) == 1 else None
                    done.append((job, False, _job_error(exc)))
                else:
                    done.append((job, True, value))
        return done


def _job_error(exc: Exception) -> Exception:
    """What a job's caller is told: its own error, or 'busy' for a database that is."""
    if isinstance(exc, CommonwealError):
        return exc
    if isinstance(exc, OperationalError):
        log.warning("group-commit job failed: %s", exc)
        return _busy()
    log.error("group-commit job raised", exc_info=exc)  # a bug in one job sinks no other job
    return exc


def _busy() -> BusyError:
    return BusyError("too many answers at once; nothing was stored, retry shortly")
