"""The Alembic migrations and the SQLAlchemy models describe the same schema, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from commonweal.db.engine import make_engine
from commonweal.db.migrate import upgrade
from commonweal.db.models import Base


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_sqlite_migrations_match_models(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert _diff(engine) == []
    assert set(inspect(engine).get_table_names()) >= {"member", "tie", "asset", "audit_event"}


def test_postgresql_migrations_match_models(pg_engine: Engine) -> None:
    assert _diff(pg_engine) == []


def test_sqlite_pragmas(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_unsupported_url_is_a_clear_error() -> None:
    from commonweal.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unsupported database URL"):
        make_engine("mysql://x@localhost/db")
