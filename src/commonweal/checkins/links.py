"""Single-use links: a 256-bit random token, of which only the SHA-256 is stored, with an expiry.

Opening a link (GET) only shows a page; answering (POST) uses it up. A link names exactly one
purpose and one object, so it is a narrow capability: it can answer one check-in, acknowledge one
alert, or mark one person in one safety check, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commonweal.checkins.models import AccessLink, LinkPurpose
from commonweal.errors import ConflictError, NotFoundError

__all__ = ["consume_link", "issue_link", "peek_link"]

LINK_TTL = dt.timedelta(hours=24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(session: Session, *, organisation_id: int, purpose: LinkPurpose, ref_id: int,
               now: dt.datetime, member_id: int | None = None, user_id: int | None = None,
               ttl: dt.timedelta = LINK_TTL) -> str:
    """Create a link; returns the token (shown or sent once, never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(AccessLink(organisation_id=organisation_id, token_hash=_hash(token),
                           purpose=purpose, ref_id=ref_id, member_id=member_id, user_id=user_id,
                           expires_at=now + ttl))
    return token


def peek_link(session: Session, token: str, *, now: dt.datetime) -> AccessLink:
    """The unused, unexpired link for ``token`` (for showing a page; changes nothing)."""
    link = session.scalar(select(AccessLink).where(AccessLink.token_hash == _hash(token or "")))
    if link is None or link.expires_at <= now:
        raise NotFoundError("this link is unknown or has expired")
    if link.used_at is not None:
        raise ConflictError("this link has been used already")
    return link


def consume_link(session: Session, token: str, *, now: dt.datetime,
                 purpose: LinkPurpose | None = None) -> AccessLink:
    """Use the link up (first POST wins, also under concurrency); returns it."""
    link = peek_link(session, token, now=now)
    if purpose is not None and link.purpose != purpose:
        raise NotFoundError("this link is unknown or has expired")
    won = session.execute(
        update(AccessLink).where(AccessLink.id == link.id, AccessLink.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not won:
        raise ConflictError("this link has been used already")
    return link
