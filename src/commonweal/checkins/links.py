"""Single-use links: a 256-bit random token, of which only the SHA-256 is stored, with an expiry.

Opening a link (GET) only shows a page; answering (POST) uses it up. A link names exactly one
purpose and one object, so it is a narrow capability: it can answer one check-in, acknowledge one
alert, or mark one person in one safety check, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from commonweal.checkins.models import AccessLink, LinkPurpose
from commonweal.db.statements import table_of
from commonweal.errors import ConflictError, NotFoundError

__all__ = ["LinkUse", "consume_link", "issue_link", "peek_link"]

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


class LinkUse(NamedTuple):
    """What a used-up link grants: one purpose on one object, for whom."""

    id: int
    organisation_id: int
    purpose: LinkPurpose
    ref_id: int
    member_id: int | None
    user_id: int | None


_links = table_of(AccessLink)
# Built once: a surge answers thousands of links a second, and building the statement costs more
# than running it.
_CONSUME = (
    update(_links)
    .where(_links.c.token_hash == bindparam("b_hash"), _links.c.used_at.is_(None),
           _links.c.expires_at > bindparam("b_now"), _links.c.purpose == bindparam("b_purpose"))
    .values(used_at=bindparam("b_now"))
    .returning(_links.c.id, _links.c.organisation_id, _links.c.purpose, _links.c.ref_id,
               _links.c.member_id, _links.c.user_id)
)


def consume_link(session: Session, token: str, *, now: dt.datetime,
                 purpose: LinkPurpose) -> LinkUse:
    """Use the link up for ``purpose`` (first POST wins, also under concurrency).

    One ``UPDATE ... RETURNING`` claims a fresh link; only when it claims nothing is the link read
    again, to say precisely why (unknown or expired: 404, used: 409).
    """
    row = session.connection().execute(_CONSUME, {
        "b_hash": _hash(token or ""), "b_now": now, "b_purpose": purpose}).one_or_none()
    if row is not None:
        return LinkUse(*row)
    link = peek_link(session, token, now=now)  # raises 404 (unknown, expired) or 409 (used)
    if link.purpose != purpose:
        raise NotFoundError("this link is unknown or has expired")
    raise ConflictError("this link has been used already")  # pragma: no cover - lost a race
