"""Escalation ladders: who is told, in which order, on which channels, and when to move on.

A ladder is a list of tiers, each ``{"who": ..., "channels": [...], "timeout_minutes": n}`` with
``who`` one of ``supporters`` (the member's own support ties), ``volunteers`` (volunteers assigned to
the member's plan, else every volunteer), ``coordinators`` (coordinators and admins). Each tier is
one work item due when the previous tier's acknowledgement timeout ends; the first person to
acknowledge owns the alert and later tiers do nothing. When every tier has timed out, every
coordinator is alerted at once (tier ``len(tiers)``). Every step is an :class:`AlertEvent`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from commonweal.auth.models import Role, RoleGrant, User
from commonweal.checkins.models import (
    Alert,
    AlertEvent,
    AlertReason,
    AlertStatus,
    Channel,
    EscalationPolicy,
    LinkPurpose,
    OutboxMessage,
    OutboxStatus,
)
from commonweal.checkins.queue import enqueue
from commonweal.errors import ConflictError, InputError, PermissionDeniedError, Problem
from commonweal.registry.models import Member, Tie

__all__ = [
    "DEFAULT_TIERS",
    "Recipient",
    "SelfAcknowledgeError",
    "acknowledge",
    "add_event",
    "create_alert",
    "keep_refusal",
    "note_failed_delivery",
    "policy_tiers",
    "reached_nobody",
    "run_tier",
    "validate_tiers",
]

DEFAULT_TIERS: list[dict[str, Any]] = [
    {"who": "supporters", "channels": ["sms", "email"], "timeout_minutes": 10},
    {"who": "volunteers", "channels": ["email"], "timeout_minutes": 10},
    {"who": "coordinators", "channels": ["email", "webhook"], "timeout_minutes": 10},
]
WHO = ("supporters", "volunteers", "coordinators")
_REASON_TEXT = {
    AlertReason.missed: "has not answered their check-in",
    AlertReason.need_help: "asked for help",
    AlertReason.uncomfortable: "says they are uncomfortable (no blame: please check in)",
    AlertReason.duress: "raised a silent alarm (respond discreetly)",
    AlertReason.safety_need_help: "needs help after the incident",
}


def validate_tiers(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems: list[Problem] = []
    if not tiers:
        problems.append(Problem("a ladder needs at least one tier", field="tiers"))
    out = []
    for i, t in enumerate(tiers):
        who, channels, timeout = t.get("who"), t.get("channels"), t.get("timeout_minutes")
        if who not in WHO:
            problems.append(Problem(f"who must be one of {', '.join(WHO)}", field=f"tiers.{i}.who"))
        if not channels or any(c not in {"sms", "email", "webhook"} for c in channels):
            problems.append(Problem("channels: a non-empty list of sms, email, webhook",
                                    field=f"tiers.{i}.channels"))
        if not isinstance(timeout, int) or not 1 <= timeout <= 1440:
            problems.append(Problem("timeout_minutes: 1 to 1440", field=f"tiers.{i}.timeout_minutes"))
        out.append({"who": who, "channels": list(channels or []), "timeout_minutes": timeout})
    if problems:
        raise InputError("invalid escalation ladder", problems)
    return out


def policy_tiers(session: Session, *, organisation_id: int, policy_id: int | None
                 ) -> list[dict[str, Any]]:
    """The plan's ladder, else the organisation's default ladder, else :data:`DEFAULT_TIERS`."""
    q = select(EscalationPolicy).where(EscalationPolicy.organisation_id == organisation_id)
    pol = (session.scalar(q.where(EscalationPolicy.id == policy_id)) if policy_id is not None
           else session.scalar(q.where(EscalationPolicy.is_default.is_(True))))
    return list(pol.tiers) if pol is not None else [dict(t) for t in DEFAULT_TIERS]


def add_event(session: Session, alert: Alert, kind: str, now: dt.datetime, *,
              tier: int | None = None, user_id: int | None = None, member_id: int | None = None,
              detail: str | None = None) -> None:
    session.add(AlertEvent(organisation_id=alert.organisation_id, alert_id=alert.id, at=now,
                           kind=kind, tier=tier, actor_user_id=user_id,
                           actor_member_id=member_id, detail=detail))


def create_alert(session: Session, *, organisation_id: int, member_id: int, reason: AlertReason,
                 now: dt.datetime, checkin_id: int | None = None,
                 safety_target_id: int | None = None, policy_id: int | None = None,
                 assigned_user_ids: list[int] | None = None) -> Alert:
    """Open an alert and schedule its first tier now (same transaction as the cause)."""
    tiers = policy_tiers(session, organisation_id=organisation_id, policy_id=policy_id)
    alert = Alert(organisation_id=organisation_id, member_id=member_id, checkin_id=checkin_id,
                  safety_target_id=safety_target_id, reason=reason, status=AlertStatus.open,
                  tiers=tiers, current_tier=-1, created_at=now,
                  assigned_user_ids=list(assigned_user_ids or []))
    session.add(alert)
    session.flush()
    add_event(session, alert, "created", now, detail=str(reason))
    first = 0
    if reason in (AlertReason.duress, AlertReason.safety_need_help):
        # a silent alarm skips the member's circle (who may be present); need-help after an
        # incident goes to the coordinators who run the response
        first = next((i for i, t in enumerate(tiers) if t["who"] == "coordinators"), len(tiers))
    enqueue(session, organisation_id=organisation_id, key=f"escalate:{alert.id}:{first}",
            kind="escalate", ref_id=alert.id, arg=first, due_at=now)
    return alert


@dataclass(frozen=True)
class Recipient:
    channel: Channel
    address: str
    member_id: int | None = None
    user_id: int | None = None


def _supporters(session: Session, member_id: int) -> list[Member]:
    ties = session.execute(select(Tie.from_member_id, Tie.to_member_id, Tie.reciprocal).where(
        or_(Tie.from_member_id == member_id,
            (Tie.to_member_id == member_id) & Tie.reciprocal.is_(True)))).all()
    ids = sorted({t if f == member_id else f for f, t, _ in ties} - {member_id})
    if not ids:
        return []
    return list(session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id)))


def _users(session: Session, organisation_id: int, roles: set[Role],
           only: list[int] | None = None) -> list[User]:
    q = (select(User).join(RoleGrant, RoleGrant.user_id == User.id)
         .where(RoleGrant.organisation_id == organisation_id, RoleGrant.role.in_(roles),
                User.is_active.is_(True)).order_by(User.id))
    if only:
        q = q.where(User.id.in_(only))
    return list(session.scalars(q))


def tier_recipients(session: Session, alert: Alert, who: str, channels: list[str]
                    ) -> list[Recipient]:
    out: list[Recipient] = []
    if "webhook" in channels:
        out.append(Recipient(Channel.webhook, f"org:{alert.organisation_id}"))
    if who == "supporters":
        for m in _supporters(session, alert.member_id):
            if "sms" in channels and m.phone:
                out.append(Recipient(Channel.sms, m.phone, member_id=m.id))
            if "email" in channels and m.email:
                out.append(Recipient(Channel.email, m.email, member_id=m.id))
        return out
    if who == "volunteers":
        users = (_users(session, alert.organisation_id, {Role.volunteer}, alert.assigned_user_ids)
                 if alert.assigned_user_ids else [])
        users = users or _users(session, alert.organisation_id, {Role.volunteer})
    else:
        users = _users(session, alert.organisation_id, {Role.coordinator, Role.admin})
    if "email" in channels:
        out += [Recipient(Channel.email, u.email, user_id=u.id) for u in users]
    return out


def _message(session: Session, alert: Alert, tier: int, final: bool) -> tuple[str, str]:
    name = session.scalar(select(Member.display_name).where(Member.id == alert.member_id))
    what = _REASON_TEXT[alert.reason]
    subject = f"{'URGENT: ' if final else ''}{name} {what}"
    body = (f"{name} {what}. Alert #{alert.id}, step {tier + 1}. "
            "If you can respond, acknowledge here so others know it is taken: {link}")
    return subject, body


def run_tier(session: Session, *, alert_id: int, tier: int, now: dt.datetime) -> str:
    """Work handler: notify tier ``tier`` of the alert unless it was acknowledged meanwhile.

    Empty tiers are skipped at once (logged); after the last tier every coordinator is alerted.
    Returns what happened (for logs and tests).
    """
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None or alert.status != AlertStatus.open:
        return "closed"
    if tier <= alert.current_tier:
        return "stale"
    tiers = alert.tiers
    while tier < len(tiers):
        spec = tiers[tier]
        recipients = tier_recipients(session, alert, spec["who"], spec["channels"])
        if recipients:
            _write_outbox(session, alert, tier, recipients, now, final=False)
            alert.current_tier = tier
            alert.tier_deadline_at = now + dt.timedelta(minutes=int(spec["timeout_minutes"]))
            add_event(session, alert, "tier_notified", now, tier=tier,
                      detail=f"{spec['who']}: {len(recipients)} message(s)")
            enqueue(session, organisation_id=alert.organisation_id,
                    key=f"escalate:{alert.id}:{tier + 1}", kind="escalate", ref_id=alert.id,
                    arg=tier + 1, due_at=alert.tier_deadline_at)
            return "notified"
        add_event(session, alert, "tier_empty", now, tier=tier, detail=spec["who"])
        tier += 1
    # every tier timed out (or was empty): all coordinators at once, on every channel they have
    recipients = tier_recipients(session, alert, "coordinators", ["email", "webhook"])
    _write_outbox(session, alert, len(tiers), recipients, now, final=True)
    alert.current_tier = len(tiers)
    alert.exhausted = True
    alert.tier_deadline_at = None
    add_event(session, alert, "exhausted", now, tier=len(tiers),
              detail=f"all coordinators alerted: {len(recipients)} message(s)")
    return "exhausted"


def note_failed_delivery(session: Session, message: OutboxMessage, now: dt.datetime) -> bool:
    """An alert's message failed for good: say so in the trail. When nothing of the alert is
    delivered or still on its way and no tier is left to try, the alert has reached nobody: the
    trail says ``unreachable``, the worker logs an error and the pages flag it. Returns whether
    the alert is now unreachable."""
    if message.alert_id is None:
        return False
    alert = session.get(Alert, message.alert_id)
    if alert is None or alert.status != AlertStatus.open:
        return False
    add_event(session, alert, "delivery_failed", now, tier=message.tier,
              detail=f"{message.channel}: {(message.last_error or 'refused')[:200]}")
    if not alert.exhausted:
        return False  # the next tier is still to come when this one times out
    on_its_way = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.alert_id == alert.id, OutboxMessage.status.in_(
            (OutboxStatus.pending, OutboxStatus.sending, OutboxStatus.sent))))
    if on_its_way:
        return False
    add_event(session, alert, "unreachable", now, tier=alert.current_tier,
              detail="every message of this alert failed: nobody has been reached")
    return True


def reached_nobody(session: Session, alert_ids: list[int]) -> set[int]:
    """Of these alerts, the open ones whose trail says ``unreachable``."""
    if not alert_ids:
        return set()
    return set(session.scalars(
        select(AlertEvent.alert_id).join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.alert_id.in_(alert_ids), AlertEvent.kind == "unreachable",
               Alert.status == AlertStatus.open)))


def _write_outbox(session: Session, alert: Alert, tier: int, recipients: list[Recipient],
                  now: dt.datetime, *, final: bool) -> None:
    subject, body = _message(session, alert, tier, final)
    for r in recipients:
        session.add(OutboxMessage(
            organisation_id=alert.organisation_id, alert_id=alert.id, tier=tier,
            key=f"alert:{alert.id}:{tier}:{r.channel}:{r.address}", channel=r.channel,
            recipient=r.address, recipient_member_id=r.member_id, recipient_user_id=r.user_id,
            link_purpose=LinkPurpose.acknowledge if r.channel != Channel.webhook else None,
            subject=subject, body=body, status=OutboxStatus.pending, due_at=now, attempts=0,
            created_at=now))
    session.flush()


class SelfAcknowledgeError(PermissionDeniedError):
    """Refused: an alert about oneself. The refusal belongs in the alert's trail even though the
    request's own work is rolled back: whoever catches it calls :meth:`record` in a fresh
    transaction (after the rollback)."""

    def __init__(self, alert: Alert, now: dt.datetime, user_id: int | None,
                 member_id: int | None) -> None:
        super().__init__("you cannot acknowledge an alert about yourself")
        self.organisation_id, self.alert_id = alert.organisation_id, alert.id
        self.at, self.user_id, self.member_id = now, user_id, member_id

    def record(self, session: Session) -> None:
        session.add(AlertEvent(organisation_id=self.organisation_id, alert_id=self.alert_id,
                               at=self.at, kind="acknowledge_refused", tier=None,
                               actor_user_id=self.user_id, actor_member_id=self.member_id,
                               detail="the alert is about them"))


def keep_refusal(session: Session, exc: BaseException) -> None:
    """After rolling ``session`` back: store what a refusal must leave in the trail, if any."""
    if isinstance(exc, SelfAcknowledgeError):
        exc.record(session)
        session.commit()


def acknowledge(session: Session, *, alert: Alert, now: dt.datetime, user_id: int | None = None,
                member_id: int | None = None) -> Alert:
    """The first to acknowledge owns the alert; nobody may acknowledge an alert about themself
    (refused with :class:`SelfAcknowledgeError`, which the trail keeps)."""
    if member_id is not None and member_id == alert.member_id:
        raise SelfAcknowledgeError(alert, now, user_id, member_id)
    if user_id is not None:
        email = session.scalar(select(User.email).where(User.id == user_id))
        subject_email = session.scalar(select(Member.email).where(Member.id == alert.member_id))
        if email and subject_email and email.strip().lower() == subject_email.strip().lower():
            raise SelfAcknowledgeError(alert, now, user_id, member_id)
    won = session.execute(
        update(Alert).where(Alert.id == alert.id, Alert.status == AlertStatus.open)
        .values(status=AlertStatus.acknowledged, owner_user_id=user_id,
                owner_member_id=member_id, acknowledged_at=now)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session.refresh(alert)
    if not won:
        raise ConflictError("this alert is already acknowledged by someone else"
                            if alert.status == AlertStatus.acknowledged else
                            f"this alert is {alert.status}")
    add_event(session, alert, "acknowledged", now, tier=alert.current_tier, user_id=user_id,
              member_id=member_id)
    return alert
