"""Small SQL helpers every domain shares (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_ignore", "table_of"]


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class (bulk and prebuilt statements go through Core)."""
    return cast(Table, model.__table__)


def insert_ignore(session: Session, model: type[Any], values: Mapping[str, Any],
                  unique: Sequence[str]) -> None:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``: add the row unless one with the same
    unique columns exists. Safe when two transactions insert the same key at once (the second
    waits for the first and then does nothing, instead of failing)."""
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)
    session.execute(ins.values(**values).on_conflict_do_nothing(index_elements=list(unique)))
