"""Shared fixtures: a database per test on SQLite (in memory) and on PostgreSQL (a transaction
rolled back per test), an ASGI client, and small factories.

PostgreSQL is expected at 127.0.0.1:5432 with trust auth (override with COMMONWEAL_TEST_PG). When it
is unreachable the PostgreSQL variants skip with the reason -- except under CI (CI=true), where
they fail, because CI must run the suite on both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from commonweal.db.engine import make_engine, make_session_factory
from commonweal.db.models import Base
from tests.helpers import World, build_world

PG_URL = os.environ.get("COMMONWEAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason})")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with minimal cost in tests: same code path, a fraction of the CPU (production keeps
    argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    from commonweal.auth import service

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(service, "_hasher", cheap)
    monkeypatch.setattr(service, "_DUMMY_HASH", cheap.hash("commonweal-dummy-password"))


@contextmanager
def _throwaway_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database built by the real Alembic migrations; dropped afterwards."""
    from commonweal.db.migrate import upgrade

    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        _pg_unavailable(str(exc).splitlines()[0])
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for this test session, built by the real Alembic migrations."""
    with _throwaway_database("cw_test") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A throwaway, migrated PostgreSQL database of its own, for tests that must really commit
    from several connections or processes (workers, kill tests). Dropped afterwards, so nothing
    it writes leaks into the rolled-back per-test transactions of the shared session database."""
    with _throwaway_database("cw_fresh") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """A session factory on a clean database: new in-memory SQLite, or a rolled-back PG transaction."""
    if request.param == "sqlite":
        engine = make_engine("sqlite://")
        Base.metadata.create_all(engine)
        yield make_session_factory(engine)
        engine.dispose()
        return
    pg: Engine = request.getfixturevalue("pg_engine")
    conn = pg.connect()
    outer = conn.begin()
    yield sessionmaker(
        bind=conn, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )
    outer.rollback()
    conn.close()


@pytest.fixture
def sqlite_db() -> Iterator[sessionmaker[Session]]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def world(db: sessionmaker[Session]) -> World:
    return build_world(db)
