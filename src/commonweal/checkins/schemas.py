"""Pydantic schemas of the check-in API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commonweal.checkins.models import (
    AlertReason,
    AlertStatus,
    Answer,
    Channel,
    CheckinKind,
    CheckinStatus,
    Recurrence,
    SafetyStatus,
)

__all__ = [
    "AlertEventRead",
    "AlertRead",
    "AnswerIn",
    "CheckinRead",
    "LinkAnswerIn",
    "LinkSafetyIn",
    "MarkIn",
    "PlanCreate",
    "PlanRead",
    "PolicyIn",
    "PulseCreate",
    "SafetyCheckCreate",
    "SafetyCheckRead",
    "SessionExtend",
    "SessionStart",
    "TierIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PlanCreate(_In):
    member_id: int
    kind: Literal[CheckinKind.reassurance, CheckinKind.pulse] = CheckinKind.reassurance
    recurrence: Recurrence = Recurrence.daily
    weekday: int | None = Field(default=None, ge=0, le=6)
    window_start_minute: int = Field(default=540, ge=0, le=1439)
    window_minutes: int = Field(default=60, ge=1, le=1440)
    grace_minutes: int = Field(default=15, ge=0, le=1440)
    channel: Channel = Channel.sms
    question: str | None = Field(default=None, max_length=500)
    policy_id: int | None = None
    assigned_user_ids: list[int] = Field(default_factory=list, max_length=50)
    duress_code: str | None = Field(default=None, min_length=4, max_length=20)


class PlanRead(_Out):
    id: int
    member_id: int
    kind: CheckinKind
    recurrence: Recurrence
    weekday: int | None
    window_start_minute: int
    window_minutes: int
    grace_minutes: int
    channel: Channel
    question: str | None
    policy_id: int | None
    assigned_user_ids: list[int]
    active: bool


class SessionStart(_In):
    member_id: int
    expected_end_at: dt.datetime
    grace_minutes: int = Field(default=15, ge=0, le=720)


class SessionExtend(_In):
    expected_end_at: dt.datetime


class PulseCreate(_In):
    group_id: int
    question: str = Field(min_length=1, max_length=500)
    window_minutes: int = Field(default=60, ge=1, le=1440)
    channel: Channel = Channel.email


class AnswerIn(_In):
    answer: Answer
    help_category: str | None = None
    note: str | None = Field(default=None, max_length=2000)
    via: Channel = Channel.call


class LinkAnswerIn(_In):
    token: str = Field(min_length=10, max_length=100)
    answer: Literal[Answer.ok, Answer.need_help, Answer.uncomfortable]
    help_category: str | None = None
    code: str | None = Field(default=None, max_length=20)


class LinkSafetyIn(_In):
    token: str = Field(min_length=10, max_length=100)
    status: Literal[SafetyStatus.safe, SafetyStatus.need_help] = SafetyStatus.safe
    help_category: str | None = Field(default=None, max_length=50)


class CheckinRead(_Out):
    id: int
    plan_id: int | None
    member_id: int
    kind: CheckinKind
    channel: Channel
    question: str | None
    opens_at: dt.datetime
    expected_end_at: dt.datetime
    due_at: dt.datetime
    status: CheckinStatus
    answer: Answer | None
    help_category: str | None
    answered_at: dt.datetime | None
    answered_via: Channel | None
    late: bool


class AlertRead(_Out):
    id: int
    member_id: int
    checkin_id: int | None
    safety_target_id: int | None
    reason: AlertReason
    status: AlertStatus
    current_tier: int
    tier_deadline_at: dt.datetime | None
    exhausted: bool
    owner_user_id: int | None
    owner_member_id: int | None
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    reached_nobody: bool = False  # open, every tier tried, every message failed (see the trail)


class AlertEventRead(_Out):
    at: dt.datetime
    kind: str
    tier: int | None
    actor_user_id: int | None
    actor_member_id: int | None
    detail: str | None


class TierIn(_In):
    who: Literal["supporters", "volunteers", "coordinators"]
    channels: list[Literal["sms", "email", "webhook"]] = Field(min_length=1)
    timeout_minutes: int = Field(ge=1, le=1440)


class PolicyIn(_In):
    name: str = Field(default="default", min_length=1, max_length=100)
    tiers: list[TierIn] = Field(min_length=1, max_length=10)
    is_default: bool = True


class SafetyCheckCreate(_In):
    community_id: int
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=1000)
    selector: dict[str, Any]
    channels: list[Literal["sms", "email"]] = Field(
        default_factory=lambda: ["sms", "email"])  # type: ignore[arg-type]
    reminder_minutes: int = Field(default=30, ge=1, le=1440)
    max_reminders: int = Field(default=3, ge=0, le=20)


class SafetyCheckRead(_Out):
    id: int
    community_id: int
    title: str
    message: str
    selector: dict[str, Any]
    closed: bool
    created_at: dt.datetime
    counts: dict[str, int] = Field(default_factory=dict)


class MarkIn(_In):
    member_id: int
    status: Literal[SafetyStatus.safe, SafetyStatus.need_help]
    help_category: str | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=500)
