"""Users, roles per organisation, browser sessions, API tokens, and the audit log."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commonweal.db.base import Base, TimestampMixin, utcnow

__all__ = [
    "ApiToken", "AuditEvent", "BrowserSession", "LoginThrottle", "Role", "RoleGrant", "User",
]


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    volunteer = "volunteer"
    member = "member"
    researcher = "researcher"


class User(TimestampMixin, Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class RoleGrant(Base):
    """A user's role in one organisation (one role per user and organisation)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="role",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda x: [m.value for m in x],
        )
    )


class BrowserSession(Base):
    """A logged-in browser. The cookie holds a random token; we store only its SHA-256."""

    __tablename__ = "browser_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]


class ApiToken(Base):
    """A bearer token for scripts. Shown once at creation; we store only its SHA-256."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class LoginThrottle(Base):
    """Failed-login token buckets, one per email and one per client address, so guessing
    passwords costs time. ``key`` is a keyed hash ("email:..." / "client:..."): the table never
    holds an email address or an IP address."""

    __tablename__ = "login_throttle"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime]


class AuditEvent(Base):
    """Who did what, when, to which records. Field NAMES only, never values.

    Append-only: nothing in commonweal updates or deletes audit rows (an organisation's rows go
    only when the organisation itself is deleted).
    """

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[str | None] = mapped_column(String(500))
    count: Mapped[int] = mapped_column(Integer, default=0)
