"""Registry tables: organisations (tenants), communities, members, consent, groups, ties, assets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commonweal.db.base import Base, TenantMixin, TimestampMixin, utcnow
from commonweal.db.base import str_enum as _enum
from commonweal.registry.vocab import (
    AssetCondition,
    AssetKind,
    CommunityKind,
    ConsentPurpose,
    GroupKind,
    LocationPrecision,
    TieKind,
    TieSource,
)

__all__ = [
    "Asset",
    "Community",
    "Consent",
    "Group",
    "GroupMembership",
    "Member",
    "Organisation",
    "Tie",
]


class Organisation(TimestampMixin, Base):
    """The tenant: every other row belongs to exactly one organisation."""

    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)


class Community(TenantMixin, TimestampMixin, Base):
    __tablename__ = "community"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CommunityKind] = mapped_column(_enum(CommunityKind, "community_kind"))
    description: Mapped[str | None] = mapped_column(Text)


class Member(TenantMixin, TimestampMixin, Base):
    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("community_id", "external_id"),
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="lon_range"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    household: Mapped[str | None] = mapped_column(String(100), index=True)
    lives_alone: Mapped[bool | None]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[LocationPrecision] = mapped_column(
        _enum(LocationPrecision, "location_precision"), default=LocationPrecision.neighbourhood
    )
    notes: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    consents: Mapped[list[Consent]] = relationship(
        back_populates="member",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Consent.recorded_at",
    )


class Consent(TenantMixin, Base):
    """One consent decision for one purpose at one time; the latest per purpose is in force."""

    __tablename__ = "consent"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[ConsentPurpose] = mapped_column(_enum(ConsentPurpose, "consent_purpose"))
    granted: Mapped[bool]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    member: Mapped[Member] = relationship(back_populates="consents")


class Group(TenantMixin, TimestampMixin, Base):
    __tablename__ = "member_group"
    __table_args__ = (UniqueConstraint("community_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[GroupKind] = mapped_column(_enum(GroupKind, "group_kind"))
    description: Mapped[str | None] = mapped_column(Text)


class GroupMembership(TenantMixin, Base):
    __tablename__ = "group_membership"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(50), default="member")


class Tie(TenantMixin, TimestampMixin, Base):
    """``from_member`` turns to ``to_member`` for support. One tie per (pair, kind)."""

    __tablename__ = "tie"
    __table_args__ = (
        UniqueConstraint("from_member_id", "to_member_id", "kind"),
        CheckConstraint("from_member_id <> to_member_id", name="no_self_tie"),
        CheckConstraint("strength IS NULL OR (strength >= 1 AND strength <= 5)", name="strength"),
        CheckConstraint("support_mask >= 0 AND support_mask < 32", name="support_mask"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    from_member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    to_member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TieKind] = mapped_column(_enum(TieKind, "tie_kind"))
    support_mask: Mapped[int] = mapped_column(Integer, default=0)
    strength: Mapped[int | None] = mapped_column(Integer)
    reciprocal: Mapped[bool] = mapped_column(default=False)
    since: Mapped[dt.date | None]
    source: Mapped[TieSource] = mapped_column(
        _enum(TieSource, "tie_source"), default=TieSource.self_report
    )


class Asset(TenantMixin, TimestampMixin, Base):
    """An entry of the community asset inventory, tangible or intangible."""

    __tablename__ = "asset"
    __table_args__ = (
        UniqueConstraint("community_id", "external_id"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    tangible: Mapped[bool]
    kind: Mapped[AssetKind] = mapped_column(_enum(AssetKind, "asset_kind"))
    steward_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    steward_org: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)
    availability: Mapped[str | None] = mapped_column(String(200))
    condition: Mapped[AssetCondition] = mapped_column(
        _enum(AssetCondition, "asset_condition"), default=AssetCondition.unknown
    )
    notes: Mapped[str | None] = mapped_column(Text)
