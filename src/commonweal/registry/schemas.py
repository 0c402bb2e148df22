"""Pydantic schemas of the registry: ``XCreate`` (input), ``XUpdate`` (partial input), ``XRead``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commonweal.registry.vocab import (
    AssetCondition,
    AssetKind,
    CommunityKind,
    ConsentPurpose,
    GroupKind,
    LocationPrecision,
    SupportType,
    TieKind,
    TieSource,
)

__all__ = [
    "AssetCreate",
    "AssetRead",
    "AssetUpdate",
    "CommunityCreate",
    "CommunityRead",
    "ConsentCreate",
    "ConsentRead",
    "GroupCreate",
    "GroupMemberRead",
    "GroupRead",
    "MembershipCreate",
    "MemberCreate",
    "MemberRead",
    "MemberUpdate",
    "OrganisationRead",
    "Page",
    "SENSITIVE_MEMBER_FIELDS",
    "TieCreate",
    "TieRead",
]

T = TypeVar("T")

# Fields only roles with the "sensitive:read" permission see (and whose reads are audited).
SENSITIVE_MEMBER_FIELDS = ("phone", "email", "lat", "lon", "notes")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class OrganisationRead(_Out):
    id: int
    name: str
    slug: str


class CommunityCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    kind: CommunityKind = CommunityKind.neighbourhood
    description: str | None = None


class CommunityRead(_Out):
    id: int
    name: str
    kind: CommunityKind
    description: str | None


def _check_latlon(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must be given together")


class _MemberFields(_In):
    display_name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    languages: list[str] = Field(default_factory=list)
    birth_year: int | None = Field(default=None, ge=1890, le=2100)
    household: str | None = Field(default=None, max_length=100)
    lives_alone: bool | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    location_precision: LocationPrecision = LocationPrecision.neighbourhood
    notes: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str]) -> list[str]:
        for code in v:
            if not code or len(code) > 20 or not code.replace("-", "").isalnum():
                raise ValueError(f"not a language code: {code!r}")
        return v


class MemberCreate(_MemberFields):
    external_id: str = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _pair(self) -> MemberCreate:
        _check_latlon(self.lat, self.lon)
        return self


class MemberUpdate(_In):
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    languages: list[str] | None = None
    birth_year: int | None = Field(default=None, ge=1890, le=2100)
    household: str | None = None
    lives_alone: bool | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    location_precision: LocationPrecision | None = None
    notes: str | None = None
    attributes: dict[str, Any] | None = None


class MemberRead(_Out):
    """A member as the caller may see them: sensitive fields are ``None`` unless allowed."""

    id: int
    community_id: int
    external_id: str
    display_name: str
    languages: list[str]
    birth_year: int | None
    household: str | None
    lives_alone: bool | None
    location_precision: LocationPrecision
    approx_lat: float | None = None
    approx_lon: float | None = None
    attributes: dict[str, Any]
    phone: str | None = None
    email: str | None = None
    lat: float | None = None
    lon: float | None = None
    notes: str | None = None
    sensitive_included: bool = False
    updated_at: dt.datetime


class ConsentCreate(_In):
    purpose: ConsentPurpose
    granted: bool


class ConsentRead(_Out):
    purpose: ConsentPurpose
    granted: bool
    recorded_at: dt.datetime


class GroupCreate(_In):
    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    kind: GroupKind
    description: str | None = None


class GroupRead(_Out):
    id: int
    community_id: int
    external_id: str
    name: str
    kind: GroupKind
    description: str | None
    member_count: int = 0


class MembershipCreate(_In):
    member_id: int
    role: str = Field(default="member", min_length=1, max_length=50)


class GroupMemberRead(_Out):
    member_id: int
    display_name: str
    role: str


class TieCreate(_In):
    from_member_id: int
    to_member_id: int
    kind: TieKind
    support_types: list[SupportType] = Field(default_factory=list)
    strength: int | None = Field(default=None, ge=1, le=5)
    reciprocal: bool = False
    since: dt.date | None = None
    source: TieSource = TieSource.self_report

    @model_validator(mode="after")
    def _no_self(self) -> TieCreate:
        if self.from_member_id == self.to_member_id:
            raise ValueError("a tie needs two different members")
        return self


class TieRead(_Out):
    id: int
    community_id: int
    from_member_id: int
    to_member_id: int
    from_name: str | None = None
    to_name: str | None = None
    kind: TieKind
    support_types: list[SupportType]
    strength: int | None
    reciprocal: bool
    since: dt.date | None
    source: TieSource


class AssetCreate(_In):
    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    tangible: bool
    kind: AssetKind
    steward_member_id: int | None = None
    steward_org: str | None = Field(default=None, max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    capacity: int | None = Field(default=None, ge=0)
    availability: str | None = Field(default=None, max_length=200)
    condition: AssetCondition = AssetCondition.unknown
    notes: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> AssetCreate:
        _check_latlon(self.lat, self.lon)
        return self


class AssetUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: AssetKind | None = None
    steward_member_id: int | None = None
    steward_org: str | None = None
    capacity: int | None = Field(default=None, ge=0)
    availability: str | None = None
    condition: AssetCondition | None = None
    notes: str | None = None


class AssetRead(_Out):
    id: int
    community_id: int
    external_id: str
    name: str
    tangible: bool
    kind: AssetKind
    steward_member_id: int | None
    steward_org: str | None
    lat: float | None
    lon: float | None
    capacity: int | None
    availability: str | None
    condition: AssetCondition
    notes: str | None = None
