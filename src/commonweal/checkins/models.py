"""Check-in tables: plans, check-ins (occurrences and lone-worker sessions), alerts with their
append-only trail, escalation policies, safety checks, and the durable machinery (work items with
leases, the notification outbox, single-use links, idempotency records, per-organisation rate buckets).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from commonweal.db.base import Base, TenantMixin
from commonweal.db.base import str_enum as _enum

__all__ = [
    "AccessLink",
    "Alert",
    "AlertEvent",
    "AlertReason",
    "AlertStatus",
    "Answer",
    "Channel",
    "Checkin",
    "CheckinKind",
    "CheckinPlan",
    "CheckinStatus",
    "EscalationPolicy",
    "IdempotencyRecord",
    "LinkPurpose",
    "OutboxMessage",
    "OutboxStatus",
    "RateBucket",
    "Recurrence",
    "SafetyCheck",
    "SafetyStatus",
    "SafetyTarget",
    "WorkItem",
    "WorkStatus",
]


class CheckinKind(StrEnum):
    reassurance = "reassurance"  # recurring "are you all right today?"
    lone_worker = "lone_worker"  # a timed session with an expected end and a grace period
    pulse = "pulse"  # a team huddle question


class Recurrence(StrEnum):
    daily = "daily"
    weekly = "weekly"


class Channel(StrEnum):
    web = "web"  # a single-use link shown in the app or sent by another channel
    sms = "sms"
    email = "email"
    call = "call"  # a volunteer calls and logs the answer
    webhook = "webhook"


class CheckinStatus(StrEnum):
    pending = "pending"
    answered = "answered"
    missed = "missed"
    cancelled = "cancelled"


class Answer(StrEnum):
    ok = "ok"
    need_help = "need_help"
    uncomfortable = "uncomfortable"  # CRM signal: demands attention, carries no blame
    duress = "duress"  # looks like OK to anyone watching; raises an alarm


class AlertReason(StrEnum):
    missed = "missed"
    need_help = "need_help"
    uncomfortable = "uncomfortable"
    duress = "duress"
    safety_need_help = "safety_need_help"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class SafetyStatus(StrEnum):
    no_answer = "no_answer"
    safe = "safe"
    need_help = "need_help"


class WorkStatus(StrEnum):
    due = "due"
    leased = "leased"
    done = "done"


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # gave up after max attempts (stays visible; never silently dropped)


class LinkPurpose(StrEnum):
    answer = "answer"
    acknowledge = "acknowledge"
    safety = "safety"



class EscalationPolicy(TenantMixin, Base):
    """An ordered ladder of tiers: ``[{"who": "supporters"|"volunteers"|"coordinators",
    "channels": [...], "timeout_minutes": n}, ...]``. One default per organisation."""

    __tablename__ = "escalation_policy"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckinPlan(TenantMixin, Base):
    __tablename__ = "checkin_plan"
    __table_args__ = (
        CheckConstraint("window_start_minute >= 0 AND window_start_minute < 1440", name="window"),
        CheckConstraint("window_minutes > 0 AND grace_minutes >= 0", name="durations"),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CheckinKind] = mapped_column(_enum(CheckinKind, "checkin_kind"))
    recurrence: Mapped[Recurrence] = mapped_column(_enum(Recurrence, "checkin_recurrence"))
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, weekly plans only
    window_start_minute: Mapped[int] = mapped_column(Integer)  # minutes after midnight UTC
    window_minutes: Mapped[int] = mapped_column(Integer)
    grace_minutes: Mapped[int] = mapped_column(Integer, default=15)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "checkin_channel"))
    question: Mapped[str | None] = mapped_column(String(500))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policy.id", ondelete="SET NULL"))
    assigned_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    duress_code_hash: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]


class Checkin(TenantMixin, Base):
    """One occurrence of a plan, one lone-worker session, or one pulse question to one member."""

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("plan_id", "opens_at"),
        Index("ix_checkin_status_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkin_plan.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CheckinKind] = mapped_column(_enum(CheckinKind, "checkin_kind"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "checkin_channel"))
    question: Mapped[str | None] = mapped_column(String(500))
    opens_at: Mapped[dt.datetime]
    expected_end_at: Mapped[dt.datetime]  # window end, or the lone worker's expected end
    grace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[dt.datetime]  # expected_end_at + grace: missed after this
    status: Mapped[CheckinStatus] = mapped_column(_enum(CheckinStatus, "checkin_status"))
    answer: Mapped[Answer | None] = mapped_column(_enum(Answer, "checkin_answer"))
    help_category: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None]
    answered_via: Mapped[Channel | None] = mapped_column(_enum(Channel, "answered_via"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class Alert(TenantMixin, Base):
    __tablename__ = "checkin_alert"
    __table_args__ = (
        UniqueConstraint("checkin_id", "reason"),
        UniqueConstraint("safety_target_id", "reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkin.id", ondelete="CASCADE"), index=True)
    safety_target_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_target.id", ondelete="CASCADE"), index=True)
    reason: Mapped[AlertReason] = mapped_column(_enum(AlertReason, "alert_reason"))
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus, "alert_status"), index=True)
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the ladder, frozen at creation
    current_tier: Mapped[int] = mapped_column(Integer, default=-1)
    tier_deadline_at: Mapped[dt.datetime | None]
    exhausted: Mapped[bool] = mapped_column(Boolean, default=False)  # every tier timed out
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    owner_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    assigned_user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime]
    acknowledged_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]


class AlertEvent(TenantMixin, Base):
    """The append-only trail of an alert: nothing updates or deletes these rows."""

    __tablename__ = "checkin_alert_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_alert.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime]
    kind: Mapped[str] = mapped_column(String(40))
    tier: Mapped[int | None] = mapped_column(Integer)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(String(500))


class SafetyCheck(TenantMixin, Base):
    __tablename__ = "safety_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(1000))
    selector: Mapped[dict[str, Any]] = mapped_column(JSON)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=30)
    max_reminders: Mapped[int] = mapped_column(Integer, default=3)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime]


class SafetyTarget(TenantMixin, Base):
    __tablename__ = "safety_target"
    __table_args__ = (UniqueConstraint("safety_check_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    safety_check_id: Mapped[int] = mapped_column(
        ForeignKey("safety_check.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    status: Mapped[SafetyStatus] = mapped_column(_enum(SafetyStatus, "safety_status"))
    help_category: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(String(500))
    marked_at: Mapped[dt.datetime | None]
    marked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    marked_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    marked_via: Mapped[str | None] = mapped_column(String(20))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class WorkItem(TenantMixin, Base):
    """Durable, time-driven work: claimed with a lease, completed in the transaction that acts."""

    __tablename__ = "work_item"
    __table_args__ = (Index("ix_work_item_status_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # idempotency key of the work
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[int] = mapped_column(Integer)
    arg: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[dt.datetime]
    status: Mapped[WorkStatus] = mapped_column(_enum(WorkStatus, "work_status"))
    lease_until: Mapped[dt.datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class OutboxMessage(TenantMixin, Base):
    """A notification to send, written in the same transaction as its cause."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("alert_id", "tier", "channel", "recipient"),
        Index("ix_outbox_message_status_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkin_alert.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int | None] = mapped_column(Integer)
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkin.id", ondelete="CASCADE"))
    safety_target_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_target.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "checkin_channel"))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"))
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    link_purpose: Mapped[LinkPurpose | None] = mapped_column(_enum(LinkPurpose, "link_purpose"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"))
    due_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # hand-overs to the provider
    send_started_at: Mapped[dt.datetime | None]  # set (and committed) just before a hand-over
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(100))
    suspected_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(500))


class AccessLink(TenantMixin, Base):
    """A single-use link: a random token of which only the SHA-256 is stored, with an expiry."""

    __tablename__ = "access_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[LinkPurpose] = mapped_column(_enum(LinkPurpose, "link_purpose"))
    ref_id: Mapped[int] = mapped_column(Integer, index=True)  # checkin, alert or safety target
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class IdempotencyRecord(Base):
    """The stored response of a POST sent with an ``Idempotency-Key`` (scope = caller)."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    in_flight_until: Mapped[dt.datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime]


class RateBucket(TenantMixin, Base):
    """A token bucket per organisation and channel, shared by every worker through the database."""

    __tablename__ = "rate_bucket"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime]
