"""Engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite gets: WAL (file databases), foreign keys on, a busy timeout, ``BEGIN IMMEDIATE`` for every
transaction (writers queue on the lock instead of failing half-way with SQLITE_BUSY on upgrade), and
``secure_delete`` so erased rows are overwritten on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from commonweal.errors import ConfigurationError

__all__ = ["make_engine", "make_session_factory", "transaction"]


def _normalise_url(url: str) -> str:
    # plain postgresql:// means psycopg 3 here (the driver we ship), not psycopg2
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(database_url: str, *, busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    """Create an engine with commonweal's connection settings for the URL's backend.

    Parameters
    ----------
    database_url
        ``sqlite:///path.db``, ``sqlite://`` (in memory), or ``postgresql+psycopg://...``.
    busy_timeout_ms
        SQLite only: how long a writer waits for the write lock.
    """
    url = make_url(_normalise_url(database_url))
    backend = url.get_backend_name()
    if backend == "sqlite":
        memory = url.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"echo": echo}
        if memory:
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            kwargs.update(
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000}
            )
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, memory=memory, busy_timeout_ms=busy_timeout_ms)
        return engine
    if backend == "postgresql":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    raise ConfigurationError(
        f"unsupported database URL {url.render_as_string(hide_password=True)!r}: "
        "use sqlite:///file.db or postgresql+psycopg://user@host/db"
    )


def _configure_sqlite(engine: Engine, *, memory: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can issue BEGIN IMMEDIATE ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA secure_delete=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception (all or nothing)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
