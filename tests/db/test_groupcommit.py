"""Group commit: jobs share transactions, a failing job sinks no other, overload is refused fast,
and a job's answer comes only after its commit (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.groupcommit import GroupCommitter
from commonweal.db.migrate import upgrade
from commonweal.errors import BusyError, ConflictError
from commonweal.registry.models import Organisation


def _add(name: str, then: Callable[[], None] | None = None) -> Callable[[Session], str]:
    def job(session: Session) -> str:
        session.add(Organisation(name=name, slug=name))
        session.flush()
        if then is not None:
            then()
        return name
    return job


def _names(factory: sessionmaker[Session]) -> set[str]:
    with transaction(factory) as s:
        return set(s.scalars(select(Organisation.name)))


def _held(committer: GroupCommitter) -> tuple[threading.Event, Future[str]]:
    """Occupy the writer with a job that waits, so the next jobs queue up into one batch."""
    running, release = threading.Event(), threading.Event()

    def hold() -> None:
        running.set()
        assert release.wait(10)

    first = committer.submit(_add("first", hold))
    assert running.wait(10)
    return release, first


def _fail(exc: Exception) -> Callable[[], None]:
    def raise_() -> None:
        raise exc
    return raise_


def test_batch_commits_together_and_a_failing_job_sinks_no_other(
        db: sessionmaker[Session]) -> None:
    committer = GroupCommitter(db)
    try:
        release, first = _held(committer)
        futures = {
            "ok1": committer.submit(_add("ok1")),
            "refused": committer.submit(_add("refused", _fail(ConflictError("used already")))),
            "duplicate": committer.submit(_add("ok1")),  # unique name: the database refuses it
            "bug": committer.submit(_add("bug", _fail(ValueError("a bug")))),
            "ok2": committer.submit(_add("ok2")),
        }
        release.set()
        assert first.result(10) == "first"
        assert futures["ok1"].result(10) == "ok1" and futures["ok2"].result(10) == "ok2"
        with pytest.raises(ConflictError):
            futures["refused"].result(10)
        with pytest.raises(Exception, match="UNIQUE|unique|duplicate"):
            futures["duplicate"].result(10)
        with pytest.raises(ValueError, match="a bug"):
            futures["bug"].result(10)
        assert committer.batches == 2 and committer.jobs == 6  # one held job, then one batch
    finally:
        committer.close()
    assert _names(db) == {"first", "ok1", "ok2"}


def test_a_job_that_waited_too_long_is_refused_and_not_run(db: sessionmaker[Session]) -> None:
    committer = GroupCommitter(db, max_wait=0.05)
    try:
        release, first = _held(committer)
        late = committer.submit(_add("late"))
        time.sleep(0.2)
        release.set()
        assert first.result(10) == "first"
        with pytest.raises(BusyError):
            late.result(10)
    finally:
        committer.close()
    assert _names(db) == {"first"}


def test_a_full_queue_refuses_at_once(db: sessionmaker[Session]) -> None:
    committer = GroupCommitter(db, max_queue=1)
    try:
        release, first = _held(committer)
        queued = committer.submit(_add("queued"))
        refused = committer.submit(_add("refused"))
        assert refused.done()  # answered without waiting for the writer
        with pytest.raises(BusyError):
            refused.result(0)
        release.set()
        assert queued.result(10) == "queued" and first.result(10) == "first"
    finally:
        committer.close()
    assert _names(db) == {"first", "queued"}


def test_a_failed_commit_stores_nothing_and_every_job_hears_busy(
        sqlite_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    committer = GroupCommitter(sqlite_db)

    def broken_commit(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    try:
        release, first = _held(committer)
        jobs = [committer.submit(_add(f"n{i}")) for i in range(3)]
        monkeypatch.setattr(Session, "commit", broken_commit)
        release.set()
        for f in [first, *jobs]:
            with pytest.raises(BusyError):
                f.result(10)
        monkeypatch.undo()
    finally:
        committer.close()
    assert _names(sqlite_db) == set()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_answered_job_is_committed_and_visible_to_another_connection(
        backend: str, tmp_path: Any, request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'gc.db'}" if backend == "sqlite"
           else request.getfixturevalue("fresh_pg_url"))
    engine = make_engine(url)
    upgrade(engine)
    committer = GroupCommitter(make_session_factory(engine))
    other = make_engine(url)
    try:
        futures = [committer.submit(_add(f"p{i}")) for i in range(200)]
        for i, f in enumerate(futures):
            assert f.result(30) == f"p{i}"
            with other.connect() as c:  # committed before the answer was given
                assert c.scalar(select(func.count()).select_from(Organisation)
                                .where(Organisation.name == f"p{i}")) == 1
        assert committer.batches < 200  # jobs offered together shared commits
    finally:
        committer.close()
        other.dispose()
        engine.dispose()
