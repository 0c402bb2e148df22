"""Storage: engine and session factory, the declarative base, Alembic migrations."""

from commonweal.db.base import Base, TenantMixin, TimestampMixin, utcnow
from commonweal.db.engine import make_engine, make_session_factory, transaction

__all__ = [
    "Base",
    "TenantMixin",
    "TimestampMixin",
    "make_engine",
    "make_session_factory",
    "transaction",
    "utcnow",
]
