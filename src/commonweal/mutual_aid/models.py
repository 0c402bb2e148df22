"""Mutual-aid tables: settings, volunteers, needs, offers, claims, take-over requests, notes,
matching runs and suggestions, the time-bank ledger and crisis reports.

Privacy lives in the columns: ``address``, ``contact``, ``lat``/``lon`` and private notes of a need
are *sensitive*; everyone else sees ``area`` and the coarse ``approx_lat``/``approx_lon`` until a
match is accepted (see :mod:`commonweal.mutual_aid.views`). Time-driven work (stale claims,
unanswered take-over requests) is a ``due_at`` column checked by a sweep, never a timer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from commonweal.db.base import Base, TenantMixin, TimestampMixin, utcnow
from commonweal.db.base import str_enum as _enum
from commonweal.mutual_aid.vocab import (
    Category,
    Channel,
    ClaimState,
    ModerationMode,
    NeedStatus,
    NoteKind,
    Recurrence,
    ReportStatus,
    TakeoverState,
    TransferKind,
)

__all__ = [
    "AidCommunitySettings",
    "AidNeed",
    "AidNote",
    "AidOffer",
    "AidOrgSettings",
    "AidVolunteer",
    "Claim",
    "CrisisReport",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransfer",
    "MatchRun",
    "MatchSuggestion",
    "TakeoverRequest",
]



_LATLON = (
    CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
    CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="lon_range"),
    CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
)


class AidOrgSettings(TenantMixin, Base):
    """Per-organisation settings: the shared secret that signs inbound email/SMS webhooks."""

    __tablename__ = "aid_org_settings"
    __table_args__ = (UniqueConstraint("organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_secret: Mapped[str | None] = mapped_column(String(128))
    default_community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="SET NULL")
    )


class AidCommunitySettings(TenantMixin, Base):
    """How one community runs its exchange: moderation mode and the clocks of the workflow."""

    __tablename__ = "aid_community_settings"
    __table_args__ = (
        UniqueConstraint("community_id"),
        CheckConstraint(
            "claim_ttl_s > 0 AND takeover_ttl_s > 0 AND duplicate_window_s >= 0",
            name="positive_times",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id", ondelete="CASCADE"))
    moderation_mode: Mapped[ModerationMode] = mapped_column(
        _enum(ModerationMode, "aid_moderation_mode"), default=ModerationMode.dispatcher_assisted
    )
    claim_ttl_s: Mapped[int] = mapped_column(Integer, default=48 * 3600)
    takeover_ttl_s: Mapped[int] = mapped_column(Integer, default=24 * 3600)
    duplicate_window_s: Mapped[int] = mapped_column(Integer, default=72 * 3600)
    duplicate_radius_m: Mapped[float] = mapped_column(Float, default=150.0)


class AidVolunteer(TenantMixin, TimestampMixin, Base):
    """A user who helps, with vetting flags and a monthly cap on matches."""

    __tablename__ = "aid_volunteer"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    vetted: Mapped[bool] = mapped_column(default=False)
    vetting_flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    monthly_cap: Mapped[int] = mapped_column(Integer, default=8)


class AidNeed(TenantMixin, TimestampMixin, Base):
    """A request for help. ``address``, ``contact``, ``lat``/``lon`` and ``private_notes`` are
    sensitive; ``area`` and ``approx_lat``/``approx_lon`` are what others see."""

    __tablename__ = "aid_need"
    __table_args__ = (
        *_LATLON,
        CheckConstraint("urgency >= 1 AND urgency <= 4", name="urgency"),
        CheckConstraint("quantity >= 1", name="quantity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[Category] = mapped_column(_enum(Category, "aid_category"))
    description: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[int] = mapped_column(Integer, default=2)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    window_start: Mapped[dt.datetime | None]
    window_end: Mapped[dt.datetime | None]
    recurrence: Mapped[Recurrence] = mapped_column(
        _enum(Recurrence, "aid_recurrence"), default=Recurrence.none
    )
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    area: Mapped[str | None] = mapped_column(String(200))
    approx_lat: Mapped[float | None] = mapped_column(Float)
    approx_lon: Mapped[float | None] = mapped_column(Float)
    # sensitive ---------------------------------------------------------------------------------
    address: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(254))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    private_notes: Mapped[str | None] = mapped_column(Text)
    # ------------------------------------------------------------------------------------------
    requester_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    requester_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "aid_channel"))
    status: Mapped[NeedStatus] = mapped_column(
        _enum(NeedStatus, "aid_need_status"), default=NeedStatus.open, index=True
    )
    approved: Mapped[bool] = mapped_column(default=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("aid_need.id", ondelete="SET NULL")
    )
    suspected_duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("aid_need.id", ondelete="SET NULL")
    )
    fulfilled_at: Mapped[dt.datetime | None]


class AidOffer(TenantMixin, TimestampMixin, Base):
    """A standing offer of help by a volunteer (``user_id``) or someone who wrote in."""

    __tablename__ = "aid_offer"
    __table_args__ = (
        *_LATLON,
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("max_distance_km > 0", name="max_distance"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    max_distance_km: Mapped[float] = mapped_column(Float, default=3.0)
    windows: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[iso, iso], ...]
    recurrence: Mapped[Recurrence] = mapped_column(
        _enum(Recurrence, "aid_recurrence"), default=Recurrence.none
    )
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    area: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contact: Mapped[str | None] = mapped_column(String(254))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "aid_channel"))
    active: Mapped[bool] = mapped_column(default=True)


class Claim(TenantMixin, Base):
    """A volunteer's hold on a need. Only an ``active`` claim reveals the need's details.

    ``due_at`` is when the claim lapses if nothing happens (``sweep`` releases it)."""

    __tablename__ = "aid_claim"
    # at most one active claim (accepted match) per need, whatever races happen
    __table_args__ = (
        Index(
            "uq_aid_claim_one_active",
            "need_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("aid_need.id", ondelete="CASCADE"), index=True)
    volunteer_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("aid_offer.id", ondelete="SET NULL"))
    state: Mapped[ClaimState] = mapped_column(_enum(ClaimState, "aid_claim_state"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None]
    accepted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(200))


class TakeoverRequest(TenantMixin, Base):
    """ "Ask to take over": approved by the holder or a dispatcher, or automatically at ``due_at``."""

    __tablename__ = "aid_takeover"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("aid_claim.id", ondelete="CASCADE"), index=True
    )
    requester_user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE")
    )
    state: Mapped[TakeoverState] = mapped_column(
        _enum(TakeoverState, "aid_takeover_state"), default=TakeoverState.pending
    )
    message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
    decided_at: Mapped[dt.datetime | None]


class AidNote(TenantMixin, Base):
    """A follow-up, feedback (from either side, with an optional 1-5 rating) or a note."""

    __tablename__ = "aid_note"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("aid_need.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    side: Mapped[str] = mapped_column(String(20))  # requester | volunteer | dispatcher
    kind: Mapped[NoteKind] = mapped_column(_enum(NoteKind, "aid_note_kind"))
    rating: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    follow_up_due_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MatchRun(TenantMixin, Base):
    """One run of the matching engine over a community's open needs and offers."""

    __tablename__ = "aid_match_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    method: Mapped[str] = mapped_column(String(40))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MatchSuggestion(TenantMixin, Base):
    """A suggested (or dispatcher-chosen) need-offer pair with its score and reasons."""

    __tablename__ = "aid_suggestion"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("aid_match_run.id", ondelete="CASCADE"), index=True
    )
    need_id: Mapped[int] = mapped_column(ForeignKey("aid_need.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("aid_offer.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default="suggested")
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class LedgerAccount(TenantMixin, Base):
    """A time-bank account of a member or of the organisation itself (``member_id`` null).

    ``balance_s`` caches the sum of the account's entries (checked by ``ledger.verify``);
    ``min_balance_s``/``max_balance_s`` are optional limits enforced in every transfer."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        UniqueConstraint("organisation_id", "member_id"),
        CheckConstraint(
            "min_balance_s IS NULL OR max_balance_s IS NULL OR min_balance_s <= max_balance_s",
            name="limits_order",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    balance_s: Mapped[int] = mapped_column(BigInteger, default=0)
    min_balance_s: Mapped[int | None] = mapped_column(BigInteger)
    max_balance_s: Mapped[int | None] = mapped_column(BigInteger)


class LedgerTransfer(TenantMixin, Base):
    """One transfer of time: always exactly two entries, -amount and +amount."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (
        CheckConstraint("amount_s > 0", name="positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    from_account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="CASCADE"), index=True
    )
    to_account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="CASCADE"), index=True
    )
    amount_s: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[TransferKind] = mapped_column(_enum(TransferKind, "ledger_transfer_kind"))
    memo: Mapped[str | None] = mapped_column(String(300))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("aid_need.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class LedgerEntry(TenantMixin, Base):
    __tablename__ = "ledger_entry"
    __table_args__ = (CheckConstraint("amount_s <> 0", name="nonzero"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transfer.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_account.id", ondelete="CASCADE"), index=True
    )
    amount_s: Mapped[int] = mapped_column(BigInteger)


class CrisisReport(TenantMixin, Base):
    """A geo-tagged report of an urgent need, from any channel, with its verification state.

    The location is shared with the organisation's responders (that is the report's purpose);
    ``reporter_contact`` is sensitive."""

    __tablename__ = "crisis_report"
    __table_args__ = (
        *_LATLON,
        CheckConstraint("severity >= 1 AND severity <= 4", name="severity"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[Category] = mapped_column(_enum(Category, "aid_category"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[int] = mapped_column(Integer, default=3)
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus, "crisis_report_status"), default=ReportStatus.unverified, index=True
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("crisis_report.id", ondelete="SET NULL")
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "aid_channel"))
    reporter_contact: Mapped[str | None] = mapped_column(String(254))
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    verified_at: Mapped[dt.datetime | None]
    verified_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
