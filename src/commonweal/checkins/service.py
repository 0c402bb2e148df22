"""Check-in plans, occurrences, lone-worker sessions, pulses, answers and alerts.

Keyword-only functions taking the session and the current time (from a :class:`Clock`); every query
is scoped to the organisation. Every change that must notify someone writes its outbox rows and
work items in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commonweal.checkins.escalation import acknowledge, add_event, create_alert
from commonweal.checkins.models import (
    Alert,
    AlertEvent,
    AlertReason,
    AlertStatus,
    Answer,
    Channel,
    Checkin,
    CheckinKind,
    CheckinPlan,
    CheckinStatus,
    LinkPurpose,
    OutboxMessage,
    OutboxStatus,
    Recurrence,
)
from commonweal.checkins.queue import enqueue
from commonweal.errors import ConflictError, InputError, NotFoundError, Problem
from commonweal.registry.models import GroupMembership, Member

__all__ = [
    "answer_checkin",
    "create_plan",
    "create_pulse",
    "end_session",
    "extend_session",
    "get_alert_or_raise",
    "get_checkin_or_raise",
    "get_plan_or_raise",
    "hash_code",
    "list_alerts",
    "list_checkins",
    "list_plans",
    "next_opening",
    "open_plan_occurrence",
    "mark_missed",
    "resolve_alert",
    "start_session",
    "acknowledge_alert",
    "alert_trail",
]

HELP_CATEGORIES = ("medical", "food", "medicine", "transport", "company", "safety", "other")


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def _member(session: Session, organisation_id: int, member_id: int) -> Member:
    m = session.get(Member, member_id)
    if m is None or m.organisation_id != organisation_id:
        raise NotFoundError(f"no member {member_id}")
    return m


def next_opening(plan: CheckinPlan, after: dt.datetime) -> dt.datetime:
    """The first window start at or after ``after`` (UTC; weekly plans on ``plan.weekday``)."""
    day = after.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(9):
        start = day + dt.timedelta(days=i, minutes=plan.window_start_minute)
        if start < after:
            continue
        if plan.recurrence == Recurrence.weekly and start.weekday() != plan.weekday:
            continue
        return start
    raise AssertionError("unreachable: a week always contains the weekday")  # pragma: no cover


def create_plan(session: Session, *, organisation_id: int, member_id: int, now: dt.datetime,
                kind: CheckinKind = CheckinKind.reassurance,
                recurrence: Recurrence = Recurrence.daily, weekday: int | None = None,
                window_start_minute: int = 9 * 60, window_minutes: int = 60,
                grace_minutes: int = 15, channel: Channel = Channel.sms,
                question: str | None = None, policy_id: int | None = None,
                assigned_user_ids: Sequence[int] = (), duress_code: str | None = None
                ) -> CheckinPlan:
    """A recurring check-in plan; its first occurrence is scheduled as a work item."""
    _member(session, organisation_id, member_id)
    problems = []
    if recurrence == Recurrence.weekly and weekday is None:
        problems.append(Problem("a weekly plan needs a weekday (0 = Monday)", field="weekday"))
    if not 0 <= window_start_minute < 1440:
        problems.append(Problem("0 to 1439 minutes after midnight UTC", field="window_start_minute"))
    if window_minutes < 1 or grace_minutes < 0:
        problems.append(Problem("the window must be positive and grace not negative",
                                field="window_minutes"))
    if problems:
        raise InputError("invalid check-in plan", problems)
    plan = CheckinPlan(organisation_id=organisation_id, member_id=member_id, kind=kind,
                       recurrence=recurrence,
                       weekday=weekday if recurrence == Recurrence.weekly else None,
                       window_start_minute=window_start_minute, window_minutes=window_minutes,
                       grace_minutes=grace_minutes, channel=channel, question=question,
                       policy_id=policy_id, assigned_user_ids=list(assigned_user_ids),
                       duress_code_hash=hash_code(duress_code) if duress_code else None,
                       active=True, created_at=now)
    session.add(plan)
    session.flush()
    first = next_opening(plan, now)
    enqueue(session, organisation_id=organisation_id, key=f"plan:{plan.id}:{first.isoformat()}",
            kind="plan_open", ref_id=plan.id, due_at=first)
    return plan


def get_plan_or_raise(session: Session, *, organisation_id: int, plan_id: int) -> CheckinPlan:
    p = session.get(CheckinPlan, plan_id)
    if p is None or p.organisation_id != organisation_id:
        raise NotFoundError(f"no check-in plan {plan_id}")
    return p


def list_plans(session: Session, *, organisation_id: int, member_id: int | None = None
               ) -> Sequence[CheckinPlan]:
    q = select(CheckinPlan).where(CheckinPlan.organisation_id == organisation_id)
    if member_id is not None:
        q = q.where(CheckinPlan.member_id == member_id)
    return session.scalars(q.order_by(CheckinPlan.id)).all()


def _new_checkin(session: Session, *, organisation_id: int, member: Member, kind: CheckinKind,
                 channel: Channel, opens_at: dt.datetime, expected_end_at: dt.datetime,
                 grace_minutes: int, now: dt.datetime, plan_id: int | None = None,
                 question: str | None = None) -> Checkin:
    due = expected_end_at + dt.timedelta(minutes=grace_minutes)
    c = Checkin(organisation_id=organisation_id, plan_id=plan_id, member_id=member.id, kind=kind,
                channel=channel, question=question, opens_at=opens_at,
                expected_end_at=expected_end_at, grace_minutes=grace_minutes, due_at=due,
                status=CheckinStatus.pending, late=False)
    session.add(c)
    session.flush()
    enqueue(session, organisation_id=organisation_id, key=f"deadline:{c.id}:{due.isoformat()}",
            kind="deadline", ref_id=c.id, due_at=due)
    address = {Channel.sms: member.phone, Channel.email: member.email}.get(channel)
    if address and kind != CheckinKind.lone_worker:
        text = question or "Good morning! Are you all right today?"
        session.add(OutboxMessage(
            organisation_id=organisation_id, key=f"prompt:{c.id}:{channel}", checkin_id=c.id,
            channel=channel, recipient=address, recipient_member_id=member.id,
            link_purpose=LinkPurpose.answer, subject="Your check-in",
            body=f"{text} Answer here: {{link}}", status=OutboxStatus.pending,
            due_at=max(now, opens_at), attempts=0, created_at=now))
    return c


def open_plan_occurrence(session: Session, *, plan_id: int, opens_at: dt.datetime,
                         now: dt.datetime) -> str:
    """Work handler: create the occurrence opening at ``opens_at`` and schedule the next one."""
    plan = session.get(CheckinPlan, plan_id)
    if plan is None or not plan.active:
        return "inactive"
    exists = session.scalar(select(Checkin.id).where(Checkin.plan_id == plan.id,
                                                     Checkin.opens_at == opens_at))
    if exists is None:
        member = session.get(Member, plan.member_id)
        if member is None:
            return "no member"
        _new_checkin(session, organisation_id=plan.organisation_id, member=member, kind=plan.kind,
                     channel=plan.channel, opens_at=opens_at,
                     expected_end_at=opens_at + dt.timedelta(minutes=plan.window_minutes),
                     grace_minutes=plan.grace_minutes, now=now, plan_id=plan.id,
                     question=plan.question)
    nxt = next_opening(plan, opens_at + dt.timedelta(minutes=1))
    enqueue(session, organisation_id=plan.organisation_id,
            key=f"plan:{plan.id}:{nxt.isoformat()}", kind="plan_open", ref_id=plan.id, due_at=nxt)
    return "opened"


def mark_missed(session: Session, *, checkin_id: int, due_at: dt.datetime, now: dt.datetime) -> str:
    """Work handler: at the deadline, a still-pending check-in is missed and escalates."""
    c = session.get(Checkin, checkin_id, with_for_update=True)
    if c is None or c.status != CheckinStatus.pending:
        return "answered"
    if c.due_at != due_at:
        return "moved"  # extended: the newer deadline item decides
    c.status = CheckinStatus.missed
    if c.kind == CheckinKind.pulse:
        return "missed"  # an unanswered team question is not an emergency
    plan = session.get(CheckinPlan, c.plan_id) if c.plan_id else None
    create_alert(session, organisation_id=c.organisation_id, member_id=c.member_id,
                 reason=AlertReason.missed, now=now, checkin_id=c.id,
                 policy_id=plan.policy_id if plan else None,
                 assigned_user_ids=plan.assigned_user_ids if plan else None)
    return "escalated"


def start_session(session: Session, *, organisation_id: int, member_id: int, now: dt.datetime,
                  expected_end_at: dt.datetime, grace_minutes: int = 15,
                  channel: Channel = Channel.web) -> Checkin:
    """A lone-worker session: missed if not ended by ``expected_end_at`` + grace."""
    if expected_end_at <= now:
        raise InputError("the expected end must be in the future",
                         [Problem("must be after now", field="expected_end_at")])
    member = _member(session, organisation_id, member_id)
    return _new_checkin(session, organisation_id=organisation_id, member=member,
                        kind=CheckinKind.lone_worker, channel=channel, opens_at=now,
                        expected_end_at=expected_end_at, grace_minutes=grace_minutes, now=now)


def extend_session(session: Session, *, organisation_id: int, checkin_id: int,
                   new_end_at: dt.datetime, now: dt.datetime) -> Checkin:
    c = get_checkin_or_raise(session, organisation_id=organisation_id, checkin_id=checkin_id)
    if c.kind != CheckinKind.lone_worker or c.status != CheckinStatus.pending:
        raise ConflictError("only a running lone-worker session can be extended")
    if new_end_at <= now:
        raise InputError("the new end must be in the future",
                         [Problem("must be after now", field="expected_end_at")])
    c.expected_end_at = new_end_at
    c.due_at = new_end_at + dt.timedelta(minutes=c.grace_minutes)
    enqueue(session, organisation_id=organisation_id, key=f"deadline:{c.id}:{c.due_at.isoformat()}",
            kind="deadline", ref_id=c.id, due_at=c.due_at)
    return c


def end_session(session: Session, *, organisation_id: int, checkin_id: int, now: dt.datetime,
                user_id: int | None = None) -> Checkin:
    c = get_checkin_or_raise(session, organisation_id=organisation_id, checkin_id=checkin_id)
    if c.kind != CheckinKind.lone_worker:
        raise ConflictError("only a lone-worker session can be ended")
    return answer_checkin(session, checkin=c, answer=Answer.ok, now=now, via=Channel.web,
                          user_id=user_id)


def create_pulse(session: Session, *, organisation_id: int, group_id: int, question: str,
                 now: dt.datetime, window_minutes: int = 60, channel: Channel = Channel.email
                 ) -> list[Checkin]:
    """A team huddle: the same question to every member of a group."""
    ids = session.scalars(select(GroupMembership.member_id).where(
        GroupMembership.organisation_id == organisation_id,
        GroupMembership.group_id == group_id)).all()
    if not ids:
        raise NotFoundError(f"no group {group_id} with members")
    out = []
    for mid in sorted(ids):
        member = _member(session, organisation_id, mid)
        out.append(_new_checkin(session, organisation_id=organisation_id, member=member,
                                kind=CheckinKind.pulse, channel=channel, opens_at=now,
                                expected_end_at=now + dt.timedelta(minutes=window_minutes),
                                grace_minutes=0, now=now, question=question))
    return out


def get_checkin_or_raise(session: Session, *, organisation_id: int, checkin_id: int) -> Checkin:
    c = session.get(Checkin, checkin_id)
    if c is None or c.organisation_id != organisation_id:
        raise NotFoundError(f"no check-in {checkin_id}")
    return c


def answer_checkin(session: Session, *, checkin: Checkin, answer: Answer, now: dt.datetime,
                   via: Channel, help_category: str | None = None, note: str | None = None,
                   code: str | None = None, user_id: int | None = None) -> Checkin:
    """Record an answer; need-help, uncomfortable and duress answers open an alert at once.

    ``code``: an "OK" with the member's duress code is stored and escalated as duress, while the
    answerer sees exactly what an ordinary OK shows.
    """
    if answer == Answer.need_help and help_category not in HELP_CATEGORIES:
        raise InputError("say what kind of help", [Problem(
            f"one of {', '.join(HELP_CATEGORIES)}", field="help_category")])
    if code and checkin.plan_id is not None:
        plan = session.get(CheckinPlan, checkin.plan_id)
        if plan is not None and plan.duress_code_hash == hash_code(code):
            answer = Answer.duress
    if checkin.status in (CheckinStatus.answered, CheckinStatus.cancelled):
        raise ConflictError("this check-in has been answered already")
    late = checkin.status == CheckinStatus.missed
    checkin.status = CheckinStatus.answered
    checkin.answer, checkin.help_category, checkin.note = answer, help_category, note
    checkin.answered_at, checkin.answered_via = now, via
    checkin.recorded_by_user_id, checkin.late = user_id, late
    plan = session.get(CheckinPlan, checkin.plan_id) if checkin.plan_id else None
    if late and answer == Answer.ok:
        for a in session.scalars(select(Alert).where(Alert.checkin_id == checkin.id,
                                                     Alert.status != AlertStatus.resolved)):
            a.status, a.resolved_at = AlertStatus.resolved, now
            add_event(session, a, "resolved", now, user_id=user_id,
                      detail="the member answered OK after the deadline")
    if answer != Answer.ok:
        create_alert(session, organisation_id=checkin.organisation_id,
                     member_id=checkin.member_id, reason=AlertReason(answer.value), now=now,
                     checkin_id=checkin.id, policy_id=plan.policy_id if plan else None,
                     assigned_user_ids=plan.assigned_user_ids if plan else None)
    return checkin


def list_checkins(session: Session, *, organisation_id: int, member_id: int | None = None,
                  since: dt.datetime | None = None, until: dt.datetime | None = None,
                  limit: int = 200) -> Sequence[Checkin]:
    q = select(Checkin).where(Checkin.organisation_id == organisation_id)
    if member_id is not None:
        q = q.where(Checkin.member_id == member_id)
    if since is not None:
        q = q.where(Checkin.due_at >= since)
    if until is not None:
        q = q.where(Checkin.opens_at < until)
    return session.scalars(q.order_by(Checkin.opens_at.desc(), Checkin.id.desc()).limit(limit)).all()


def get_alert_or_raise(session: Session, *, organisation_id: int, alert_id: int) -> Alert:
    a = session.get(Alert, alert_id)
    if a is None or a.organisation_id != organisation_id:
        raise NotFoundError(f"no alert {alert_id}")
    return a


def list_alerts(session: Session, *, organisation_id: int, open_only: bool = True,
                limit: int = 200) -> Sequence[Alert]:
    q = select(Alert).where(Alert.organisation_id == organisation_id)
    if open_only:
        q = q.where(Alert.status != AlertStatus.resolved)
    return session.scalars(q.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)).all()


def alert_trail(session: Session, *, alert: Alert) -> Sequence[AlertEvent]:
    return session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id)
                           .order_by(AlertEvent.at, AlertEvent.id)).all()


def acknowledge_alert(session: Session, *, organisation_id: int, alert_id: int, now: dt.datetime,
                      user_id: int) -> Alert:
    a = get_alert_or_raise(session, organisation_id=organisation_id, alert_id=alert_id)
    return acknowledge(session, alert=a, now=now, user_id=user_id)


def resolve_alert(session: Session, *, organisation_id: int, alert_id: int, now: dt.datetime,
                  user_id: int, note: str | None = None) -> Alert:
    a = get_alert_or_raise(session, organisation_id=organisation_id, alert_id=alert_id)
    if a.status == AlertStatus.resolved:
        raise ConflictError("this alert is resolved already")
    if a.status == AlertStatus.open:
        acknowledge(session, alert=a, now=now, user_id=user_id)
    a.status, a.resolved_at = AlertStatus.resolved, now
    add_event(session, a, "resolved", now, user_id=user_id, detail=note)
    return a


def open_alert_count(session: Session, *, organisation_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Alert).where(
        Alert.organisation_id == organisation_id, Alert.status == AlertStatus.open)) or 0)
