"""Users, passwords (argon2id), role grants, browser sessions, API tokens, and audit records."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commonweal.auth.models import (
    ApiToken,
    AuditEvent,
    BrowserSession,
    LoginThrottle,
    Role,
    RoleGrant,
    User,
)
from commonweal.db.base import utcnow
from commonweal.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    RateLimitedError,
)
from commonweal.ratelimit import refill, seconds_until, take

__all__ = [
    "LOGIN_LIMITS",
    "audit",
    "authenticate",
    "authenticate_throttled",
    "check_login_allowed",
    "record_login",
    "create_api_token",
    "create_browser_session",
    "create_user",
    "end_browser_session",
    "grant_role",
    "hash_token",
    "list_audit",
    "role_in",
    "roles_of",
    "user_for_api_token",
    "user_for_session",
]

_hasher = PasswordHasher()
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so timing does not reveal accounts.
    Made on first use, not at import."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("commonweal-dummy-password")
    return _DUMMY_HASH


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, *, email: str, display_name: str, password: str) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise InputError(f"not an email address: {email!r}")
    if len(password) < 10:
        raise InputError("password too short: use at least 10 characters")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(f"a user with email {email} exists already")
    user = User(email=email, display_name=display_name, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        raise AuthenticationError("wrong email or password") from None
    if user is None or not user.is_active:
        raise AuthenticationError("wrong email or password")
    return user


# Failed logins: per email, 5 at once then one a minute; per client address, 30 then one every
# 10 s (a shared NAT can hold many honest people). A success clears its email's bucket.
LOGIN_LIMITS: dict[str, tuple[float, float]] = {"email": (5.0, 1 / 60), "client": (30.0, 1 / 10)}


def _throttle_keys(email: str, client: str | None, secret: str) -> list[tuple[str, float, float]]:
    out = []
    for kind, value in (("email", email.strip().lower()), ("client", client)):
        if value:
            digest = hmac.new(secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256)
            burst, rate = LOGIN_LIMITS[kind]
            out.append((f"{kind}:{digest.hexdigest()}", burst, rate))
    return out


def check_login_allowed(session: Session, *, email: str, client: str | None, now: dt.datetime,
                        secret: str) -> None:
    """Raise :class:`RateLimitedError` while the email or the client has no failed try left."""
    keys = _throttle_keys(email, client, secret)
    rows = {r.key: r for r in session.scalars(
        select(LoginThrottle).where(LoginThrottle.key.in_([k for k, _, _ in keys])))}
    wait = 0.0
    for key, burst, rate in keys:
        row = rows.get(key)
        if row is not None:
            tokens = refill(row.tokens, row.updated_at, now, rate=rate, burst=burst)
            wait = max(wait, seconds_until(tokens, 1.0, rate=rate))
    if wait > 0:
        raise RateLimitedError(
            f"too many failed logins: try again in {math.ceil(wait)} seconds",
            retry_after=math.ceil(wait))


def record_login(session: Session, *, email: str, client: str | None, now: dt.datetime,
                 secret: str, ok: bool) -> None:
    """A failed login takes a token from the email's and the client's bucket; a success clears
    the email's. The caller commits (a failure must be committed although the request fails)."""
    keys = _throttle_keys(email, client, secret)
    if ok:
        session.execute(delete(LoginThrottle).where(
            LoginThrottle.key.in_([k for k, _, _ in keys if k.startswith("email:")])))
        return
    for key, burst, rate in keys:
        take(session, LoginThrottle, {"key": key}, unique=["key"], wanted=1, rate=rate,
             burst=burst, now=now)
    session.flush()


def authenticate_throttled(session: Session, *, email: str, password: str, client: str | None,
                           now: dt.datetime, secret: str) -> User:
    """:func:`authenticate` behind the failed-login limits (429 while they hold). A failure is
    committed before :class:`AuthenticationError` is raised, so the request's rollback keeps it."""
    check_login_allowed(session, email=email, client=client, now=now, secret=secret)
    try:
        user = authenticate(session, email=email, password=password)
    except AuthenticationError:
        session.rollback()
        record_login(session, email=email, client=client, now=now, secret=secret, ok=False)
        session.commit()
        raise
    record_login(session, email=email, client=client, now=now, secret=secret, ok=True)
    return user


def grant_role(session: Session, *, user_id: int, organisation_id: int, role: Role) -> RoleGrant:
    grant = session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user_id, RoleGrant.organisation_id == organisation_id
        )
    )
    if grant is None:
        grant = RoleGrant(user_id=user_id, organisation_id=organisation_id, role=role)
        session.add(grant)
    else:
        grant.role = role
    session.flush()
    return grant


def role_in(session: Session, *, user_id: int, organisation_id: int) -> Role | None:
    return session.scalar(
        select(RoleGrant.role).where(
            RoleGrant.user_id == user_id, RoleGrant.organisation_id == organisation_id
        )
    )


def roles_of(session: Session, *, user_id: int) -> Sequence[RoleGrant]:
    return session.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id)).all()


def create_browser_session(
    session: Session, *, user_id: int, max_age_seconds: int
) -> tuple[str, BrowserSession]:
    """Start a browser session; returns the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = BrowserSession(
        token_hash=hash_token(token),
        csrf_token=secrets.token_urlsafe(24),
        user_id=user_id,
        expires_at=utcnow() + dt.timedelta(seconds=max_age_seconds),
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_session(session: Session, token: str) -> tuple[User, BrowserSession] | None:
    row = session.scalar(
        select(BrowserSession).where(BrowserSession.token_hash == hash_token(token))
    )
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user, row


def end_browser_session(session: Session, token: str) -> None:
    row = session.scalar(
        select(BrowserSession).where(BrowserSession.token_hash == hash_token(token))
    )
    if row is not None:
        session.delete(row)


def create_api_token(
    session: Session, *, user_id: int, name: str, days: int | None = 90
) -> tuple[str, ApiToken]:
    if session.get(User, user_id) is None:
        raise NotFoundError(f"no user {user_id}")
    token = "cw_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=hash_token(token),
        name=name,
        user_id=user_id,
        expires_at=utcnow() + dt.timedelta(days=days) if days else None,
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_api_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = utcnow()
    return user


def audit(
    session: Session,
    *,
    organisation_id: int | None,
    user_id: int | None,
    action: str,
    entity: str,
    entity_ids: Sequence[int | str] = (),
    fields: Sequence[str] = (),
    detail: str | None = None,
) -> None:
    """Append one audit record: who, what, when, which records and which FIELD NAMES (never values)."""
    session.add(
        AuditEvent(
            organisation_id=organisation_id,
            user_id=user_id,
            action=action,
            entity=entity,
            entity_ids=list(entity_ids)[:1000],
            count=len(entity_ids),
            fields=list(fields),
            detail=detail,
        )
    )


def list_audit(
    session: Session, *, organisation_id: int, limit: int = 100, offset: int = 0
) -> tuple[Sequence[AuditEvent], int]:
    from sqlalchemy import func

    q = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    return rows, total
