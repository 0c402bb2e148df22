"""Mutual-aid services: settings, volunteers, needs and offers, duplicate detection, and who may
see a need's private details.

Keyword-only, session first, every query scoped to an organisation. ``get_x_or_raise`` raises
:class:`NotFoundError` also for another organisation's rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.errors import InputError, NotFoundError, PermissionDeniedError, Problem
from commonweal.mutual_aid.clock import Clock
from commonweal.mutual_aid.models import (
    AidCommunitySettings,
    AidNeed,
    AidOffer,
    AidOrgSettings,
    AidVolunteer,
    Claim,
)
from commonweal.mutual_aid.schemas import (
    CommunitySettingsUpdate,
    NeedCreate,
    OfferCreate,
    VolunteerUpsert,
)
from commonweal.mutual_aid.vocab import Channel, ClaimState, ModerationMode, NeedStatus
from commonweal.registry import service as reg
from commonweal.registry.models import Member

__all__ = [
    "OPEN_STATUSES",
    "approximate_point",
    "community_settings",
    "create_need",
    "create_offer",
    "find_duplicate",
    "get_need_or_raise",
    "get_offer_or_raise",
    "get_volunteer",
    "list_needs",
    "list_offers",
    "list_volunteers",
    "org_settings",
    "reveal_reason",
    "update_community_settings",
    "upsert_volunteer",
]

OPEN_STATUSES = (NeedStatus.open, NeedStatus.needs_follow_up)
_CLOSED = (NeedStatus.cancelled, NeedStatus.duplicate)


def approximate_point(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """The public location of a need: snapped to a 0.01 degree grid (about 1 km)."""
    if lat is None or lon is None:
        return None, None
    return round(lat, 2), round(lon, 2)


# --- settings -------------------------------------------------------------------------------------


def org_settings(session: Session, *, organisation_id: int) -> AidOrgSettings:
    row = session.scalar(
        select(AidOrgSettings).where(AidOrgSettings.organisation_id == organisation_id)
    )
    if row is None:
        row = AidOrgSettings(organisation_id=organisation_id)
        session.add(row)
        session.flush()
    return row


def community_settings(
    session: Session, *, organisation_id: int, community_id: int
) -> AidCommunitySettings:
    """The community's exchange settings (created with the defaults on first use)."""
    reg.get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    row = session.scalar(
        select(AidCommunitySettings).where(AidCommunitySettings.community_id == community_id)
    )
    if row is None:
        row = AidCommunitySettings(
            organisation_id=organisation_id,
            community_id=community_id,
            moderation_mode=ModerationMode.dispatcher_assisted,
            claim_ttl_s=48 * 3600,
            takeover_ttl_s=24 * 3600,
            duplicate_window_s=72 * 3600,
            duplicate_radius_m=150.0,
        )
        session.add(row)
        session.flush()
    return row


def update_community_settings(
    session: Session, *, organisation_id: int, community_id: int, data: CommunitySettingsUpdate
) -> AidCommunitySettings:
    row = community_settings(session, organisation_id=organisation_id, community_id=community_id)
    for k, v in data.model_dump(exclude_unset=True).items():
        if v is not None:
            setattr(row, k, v)
    session.flush()
    return row


# --- volunteers -----------------------------------------------------------------------------------


def get_volunteer(session: Session, *, organisation_id: int, user_id: int) -> AidVolunteer | None:
    return session.scalar(
        select(AidVolunteer).where(
            AidVolunteer.organisation_id == organisation_id, AidVolunteer.user_id == user_id
        )
    )


def upsert_volunteer(
    session: Session, *, organisation_id: int, data: VolunteerUpsert
) -> AidVolunteer:
    """Record a volunteer's vetting flags and monthly cap (the user must have a role here)."""
    from commonweal.auth import service as auth_service

    if auth_service.role_in(session, user_id=data.user_id, organisation_id=organisation_id) is None:
        raise NotFoundError(f"no user {data.user_id} in this organisation")
    if data.member_id is not None:
        reg.get_member_or_raise(session, organisation_id=organisation_id, member_id=data.member_id)
    v = get_volunteer(session, organisation_id=organisation_id, user_id=data.user_id)
    if v is None:
        v = AidVolunteer(organisation_id=organisation_id, user_id=data.user_id)
        session.add(v)
    v.member_id = data.member_id
    v.vetted = data.vetted
    v.vetting_flags = dict(data.vetting_flags)
    v.monthly_cap = data.monthly_cap
    session.flush()
    return v


def list_volunteers(session: Session, *, organisation_id: int) -> Sequence[AidVolunteer]:
    return session.scalars(
        select(AidVolunteer)
        .where(AidVolunteer.organisation_id == organisation_id)
        .order_by(AidVolunteer.id)
    ).all()


# --- needs ----------------------------------------------------------------------------------------


def _norm_contact(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    if "@" in value:
        return value
    digits = re.sub(r"\D", "", value)
    return digits[-9:] if len(digits) >= 6 else value


def _norm_address(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", value.lower()).split()) or None


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(a)))


def find_duplicate(
    session: Session, *, need: AidNeed, settings: AidCommunitySettings, now: dt.datetime
) -> AidNeed | None:
    """An earlier need of the same person, place and category within the window, or ``None``.

    Same person: the same requester member or account, or the same contact (phone numbers compared
    by their last nine digits, e-mail case-insensitively). Same place: within
    ``duplicate_radius_m`` metres, or the same address ignoring case and punctuation; when neither
    need has a place, the person and category decide. Cancelled and duplicate needs are ignored.
    """
    since = now - dt.timedelta(seconds=settings.duplicate_window_s)
    rows = session.scalars(
        select(AidNeed)
        .where(
            AidNeed.organisation_id == need.organisation_id,
            AidNeed.community_id == need.community_id,
            AidNeed.category == need.category,
            AidNeed.status.not_in(_CLOSED),
            AidNeed.created_at >= since,
            AidNeed.id != need.id if need.id is not None else AidNeed.id.is_not(None),
        )
        .order_by(AidNeed.created_at, AidNeed.id)
    ).all()
    contact, address = _norm_contact(need.contact), _norm_address(need.address)
    for old in rows:
        same_person = (
            (
                need.requester_member_id is not None
                and old.requester_member_id == need.requester_member_id
            )
            or (contact is not None and _norm_contact(old.contact) == contact)
            or (
                need.channel == Channel.web
                and need.requester_user_id is not None
                and old.requester_user_id == need.requester_user_id
            )
        )
        if not same_person:
            continue
        places = []
        if (
            need.lat is not None
            and need.lon is not None
            and old.lat is not None
            and old.lon is not None
        ):
            places.append(
                _metres(need.lat, need.lon, old.lat, old.lon) <= settings.duplicate_radius_m
            )
        if address is not None and _norm_address(old.address) is not None:
            places.append(_norm_address(old.address) == address)
        if not places or any(places):
            return old
    return None


def create_need(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    data: NeedCreate,
    channel: Channel,
    clock: Clock,
    requester_user_id: int | None = None,
    moderated: bool = False,
) -> AidNeed:
    """Record a need from any channel and flag a suspected duplicate.

    In a ``fully_moderated`` community a need posted by someone who is not a dispatcher
    (``moderated=False``) waits for approval before it appears on the board.
    """
    settings = community_settings(
        session, organisation_id=organisation_id, community_id=community_id
    )
    if data.requester_member_id is not None:
        m = session.get(Member, data.requester_member_id)
        if m is None or m.organisation_id != organisation_id or m.community_id != community_id:
            raise InputError(
                "unknown requester",
                [
                    Problem(
                        f"no member {data.requester_member_id} in this community",
                        field="requester_member_id",
                    )
                ],
            )
    now = clock.now()
    alat, alon = approximate_point(data.lat, data.lon)
    need = AidNeed(
        organisation_id=organisation_id,
        community_id=community_id,
        **data.model_dump(),
        approx_lat=alat,
        approx_lon=alon,
        channel=channel,
        requester_user_id=requester_user_id,
        status=NeedStatus.open,
        approved=moderated or settings.moderation_mode != ModerationMode.fully_moderated,
        created_at=now,
        updated_at=now,
    )
    session.add(need)
    session.flush()
    dup = find_duplicate(session, need=need, settings=settings, now=now)
    if dup is not None:
        need.suspected_duplicate_of_id = dup.id
        session.flush()
    return need


def get_need_or_raise(
    session: Session, *, organisation_id: int, need_id: int, lock: bool = False
) -> AidNeed:
    """The need, or :class:`NotFoundError` (also for another organisation's need).

    ``lock=True`` takes the row lock (``SELECT ... FOR UPDATE`` on PostgreSQL), so concurrent
    claims on one need queue instead of both seeing it free.
    """
    need = session.get(AidNeed, need_id, with_for_update=lock, populate_existing=lock)
    if need is None or need.organisation_id != organisation_id:
        raise NotFoundError(f"no need {need_id}")
    return need


def list_needs(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    statuses: Sequence[NeedStatus] | None = None,
    approved: bool | None = True,
    requester_user_id: int | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[Sequence[AidNeed], int]:
    q = select(AidNeed).where(AidNeed.organisation_id == organisation_id)
    if community_id is not None:
        q = q.where(AidNeed.community_id == community_id)
    if statuses:
        q = q.where(AidNeed.status.in_(list(statuses)))
    if approved is not None:
        q = q.where(AidNeed.approved.is_(approved))
    if requester_user_id is not None:
        q = q.where(AidNeed.requester_user_id == requester_user_id)
    if ids is not None:
        q = q.where(AidNeed.id.in_(list(ids)))
    q = q.order_by(AidNeed.urgency.desc(), AidNeed.created_at, AidNeed.id)
    return reg.paginate(session, q, limit=limit, offset=offset)


def reveal_reason(session: Session, *, need: AidNeed, user_id: int, dispatcher: bool) -> str | None:
    """Why this user may see the need's address, contact and exact location, or ``None``.

    ``"dispatcher"`` (aid:dispatch), ``"requester"`` (who posted it), or ``"matched"`` (holds the
    *active* claim, i.e. an accepted match). Nobody else, ever: not a volunteer whose claim is
    only requested, expired or released.
    """
    if dispatcher:
        return "dispatcher"
    if need.requester_user_id is not None and need.requester_user_id == user_id:
        return "requester"
    held = session.scalar(
        select(func.count())
        .select_from(Claim)
        .where(
            Claim.need_id == need.id,
            Claim.organisation_id == need.organisation_id,
            Claim.volunteer_user_id == user_id,
            Claim.state == ClaimState.active,
        )
    )
    return "matched" if held else None


# --- offers ---------------------------------------------------------------------------------------


def create_offer(
    session: Session,
    *,
    organisation_id: int,
    community_id: int,
    data: OfferCreate,
    channel: Channel,
    user_id: int | None,
    dispatcher: bool,
) -> AidOffer:
    """Record an offer. Volunteers record their own; dispatchers may name another user."""
    reg.get_community_or_raise(session, organisation_id=organisation_id, community_id=community_id)
    owner = data.user_id if data.user_id is not None else user_id
    if data.user_id is not None and data.user_id != user_id:
        if not dispatcher:
            raise PermissionDeniedError("only a dispatcher records offers for someone else")
        from commonweal.auth import service as auth_service

        if (
            auth_service.role_in(session, user_id=data.user_id, organisation_id=organisation_id)
            is None
        ):
            raise NotFoundError(f"no user {data.user_id} in this organisation")
    if data.member_id is not None:
        reg.get_member_or_raise(session, organisation_id=organisation_id, member_id=data.member_id)
    dump = data.model_dump(exclude={"user_id", "windows"})
    offer = AidOffer(
        organisation_id=organisation_id,
        community_id=community_id,
        **dump,
        user_id=owner,
        channel=channel,
        windows=[[s.isoformat(), e.isoformat()] for s, e in data.windows],
    )
    offer.categories = [str(c) for c in data.categories]
    session.add(offer)
    session.flush()
    return offer


def get_offer_or_raise(session: Session, *, organisation_id: int, offer_id: int) -> AidOffer:
    offer = session.get(AidOffer, offer_id)
    if offer is None or offer.organisation_id != organisation_id:
        raise NotFoundError(f"no offer {offer_id}")
    return offer


def list_offers(
    session: Session,
    *,
    organisation_id: int,
    community_id: int | None = None,
    active: bool | None = True,
    user_id: int | None = None,
) -> Sequence[AidOffer]:
    q = select(AidOffer).where(AidOffer.organisation_id == organisation_id)
    if community_id is not None:
        q = q.where(AidOffer.community_id == community_id)
    if active is not None:
        q = q.where(AidOffer.active.is_(active))
    if user_id is not None:
        q = q.where(AidOffer.user_id == user_id)
    return session.scalars(q.order_by(AidOffer.id)).all()
