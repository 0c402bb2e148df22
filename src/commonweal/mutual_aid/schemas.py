"""Pydantic schemas of the mutual-aid exchange: ``XCreate`` (input), ``XUpdate``, ``XRead``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commonweal.analytics.matching import URGENCY_LEVELS, normalise_category
from commonweal.mutual_aid.vocab import (
    CATEGORY_SHORTHAND,
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
    "AccountCreate",
    "AccountRead",
    "ClaimRead",
    "CommunitySettingsRead",
    "CommunitySettingsUpdate",
    "CrisisReportCreate",
    "CrisisReportRead",
    "NeedCreate",
    "NeedRead",
    "NeedStatusUpdate",
    "NoteCreate",
    "NoteRead",
    "OfferCreate",
    "OfferRead",
    "OverrideCreate",
    "SENSITIVE_NEED_FIELDS",
    "SuggestionRead",
    "TakeoverRead",
    "TransferCreate",
    "TransferRead",
    "VolunteerRead",
    "VolunteerUpsert",
]

#: Fields of a need only the requester, the matched volunteer and dispatchers see (audited).
SENSITIVE_NEED_FIELDS = ("address", "contact", "lat", "lon", "private_notes")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _category(value: object) -> object:
    if isinstance(value, str):
        return normalise_category(value) or CATEGORY_SHORTHAND.get(value.strip().lower()) or value
    return value


def _urgency(value: object) -> object:
    if isinstance(value, str) and not value.isdigit():
        return URGENCY_LEVELS.get(value.strip().lower(), value)
    return value


class _Located(_In):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _together(self) -> _Located:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class NeedCreate(_Located):
    category: Category
    description: str = Field(default="", max_length=4000)
    urgency: int = Field(default=2, ge=1, le=4)
    quantity: int = Field(default=1, ge=1, le=100)
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    recurrence: Recurrence = Recurrence.none
    languages: list[str] = Field(default_factory=list, max_length=20)
    accessibility: list[str] = Field(default_factory=list, max_length=20)
    area: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    contact: str | None = Field(default=None, max_length=254)
    private_notes: str | None = Field(default=None, max_length=4000)
    requester_member_id: int | None = None

    _cat = field_validator("category", mode="before")(_category)
    _urg = field_validator("urgency", mode="before")(_urgency)

    @model_validator(mode="after")
    def _window(self) -> NeedCreate:
        for v in (self.window_start, self.window_end):
            if v is not None and v.tzinfo is None:
                raise ValueError("window times need a timezone (e.g. 2026-05-01T10:00:00Z)")
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class NeedRead(_Out):
    id: int
    community_id: int
    category: Category
    description: str
    urgency: int
    quantity: int
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    recurrence: Recurrence
    languages: list[str]
    accessibility: list[str]
    area: str | None
    approx_lat: float | None
    approx_lon: float | None
    channel: Channel
    status: NeedStatus
    approved: bool
    duplicate_of_id: int | None
    suspected_duplicate_of_id: int | None
    created_at: dt.datetime
    # only when revealed (requester, matched volunteer, dispatcher); audited
    address: str | None = None
    contact: str | None = None
    lat: float | None = None
    lon: float | None = None
    private_notes: str | None = None
    revealed: bool = False


class NeedStatusUpdate(_In):
    status: NeedStatus
    duplicate_of_id: int | None = None
    reason: str | None = Field(default=None, max_length=200)


class OfferCreate(_Located):
    categories: list[Category] = Field(min_length=1, max_length=13)
    description: str = Field(default="", max_length=4000)
    capacity: int = Field(default=1, ge=0, le=100)
    max_distance_km: float = Field(default=3.0, gt=0, le=500)
    windows: list[tuple[dt.datetime, dt.datetime]] = Field(default_factory=list, max_length=50)
    recurrence: Recurrence = Recurrence.none
    languages: list[str] = Field(default_factory=list, max_length=20)
    skills: list[str] = Field(default_factory=list, max_length=50)
    area: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=254)
    user_id: int | None = None  # dispatchers may record an offer for a volunteer
    member_id: int | None = None

    @field_validator("categories", mode="before")
    @classmethod
    def _cats(cls, value: object) -> object:
        if isinstance(value, list):
            return [_category(v) for v in value]
        return value

    @model_validator(mode="after")
    def _windows(self) -> OfferCreate:
        for s, e in self.windows:
            if s.tzinfo is None or e.tzinfo is None:
                raise ValueError("window times need a timezone")
            if e <= s:
                raise ValueError("each window must end after it starts")
        return self


class OfferRead(_Out):
    id: int
    community_id: int
    user_id: int | None
    member_id: int | None
    categories: list[str]
    description: str
    capacity: int
    max_distance_km: float
    windows: list[list[str]]
    recurrence: Recurrence
    languages: list[str]
    skills: list[str]
    area: str | None
    channel: Channel
    active: bool
    lat: float | None = None  # the offerer and dispatchers only
    lon: float | None = None
    contact: str | None = None


class ClaimRead(_Out):
    id: int
    need_id: int
    volunteer_user_id: int | None
    offer_id: int | None
    state: ClaimState
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    due_at: dt.datetime | None
    ended_at: dt.datetime | None
    end_reason: str | None


class TakeoverRead(_Out):
    id: int
    claim_id: int
    requester_user_id: int
    state: TakeoverState
    message: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None


class NoteCreate(_In):
    kind: NoteKind = NoteKind.note
    text: str = Field(default="", max_length=4000)
    rating: int | None = Field(default=None, ge=1, le=5)
    follow_up_due_at: dt.datetime | None = None


class NoteRead(_Out):
    id: int
    need_id: int
    author_user_id: int | None
    side: str
    kind: NoteKind
    rating: int | None
    text: str
    follow_up_due_at: dt.datetime | None
    created_at: dt.datetime


class SuggestionRead(_Out):
    id: int
    run_id: int
    need_id: int
    offer_id: int
    score: float
    distance_km: float
    components: dict[str, float]
    reasons: list[str]
    state: str


class OverrideCreate(_In):
    need_id: int
    offer_id: int


class VolunteerUpsert(_In):
    user_id: int
    member_id: int | None = None
    vetted: bool = False
    vetting_flags: dict[str, bool] = Field(default_factory=dict)
    monthly_cap: int = Field(default=8, ge=0, le=1000)


class VolunteerRead(_Out):
    id: int
    user_id: int
    member_id: int | None
    vetted: bool
    vetting_flags: dict[str, Any]
    monthly_cap: int


class CommunitySettingsUpdate(_In):
    moderation_mode: ModerationMode | None = None
    claim_ttl_s: int | None = Field(default=None, gt=0, le=90 * 86400)
    takeover_ttl_s: int | None = Field(default=None, gt=0, le=30 * 86400)
    duplicate_window_s: int | None = Field(default=None, ge=0, le=90 * 86400)
    duplicate_radius_m: float | None = Field(default=None, ge=0, le=10_000)


class CommunitySettingsRead(_Out):
    community_id: int
    moderation_mode: ModerationMode
    claim_ttl_s: int
    takeover_ttl_s: int
    duplicate_window_s: int
    duplicate_radius_m: float


class AccountCreate(_In):
    member_id: int | None = None  # None: the organisation's own account
    name: str | None = Field(default=None, max_length=200)
    min_balance_s: int | None = None
    max_balance_s: int | None = None


class AccountRead(_Out):
    id: int
    member_id: int | None
    name: str
    balance_s: int
    min_balance_s: int | None
    max_balance_s: int | None


class TransferCreate(_In):
    from_account_id: int
    to_account_id: int
    amount_s: int = Field(gt=0, le=10**9)
    kind: TransferKind = TransferKind.exchange
    memo: str | None = Field(default=None, max_length=300)


class TransferRead(_Out):
    id: int
    from_account_id: int
    to_account_id: int
    amount_s: int
    kind: TransferKind
    memo: str | None
    need_id: int | None
    created_at: dt.datetime


class CrisisReportCreate(_Located):
    category: Category = Category.other
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    location_name: str | None = Field(default=None, max_length=200)
    severity: int = Field(default=3, ge=1, le=4)
    reporter_contact: str | None = Field(default=None, max_length=254)
    community_id: int | None = None

    _cat = field_validator("category", mode="before")(_category)


class CrisisReportRead(_Out):
    id: int
    community_id: int | None
    category: Category
    title: str
    description: str
    location_name: str | None
    lat: float | None
    lon: float | None
    severity: int
    status: ReportStatus
    duplicate_of_id: int | None
    channel: Channel
    reported_at: dt.datetime
    verified_at: dt.datetime | None
    reporter_contact: str | None = None  # dispatchers only (audited)
