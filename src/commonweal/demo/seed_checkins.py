"""Demo check-ins: daily (and one weekly) reassurance calls for the most isolated older members,
and a safety check after a power cut over part of the community.

Everything goes through the check-in services, in the order the worker would have done it: each
plan is created four days before the demo was loaded, its occurrences are opened day by day
(:func:`open_plan_occurrence`, which also queues the next one) and answered by the coordinator's
call. One member missed yesterday's call (the deadline handler raised an alert), was reached a
little later, and the late "OK" closed the alert. Today's calls are answered or still pending
depending on the hour. Plans use the ``call`` channel (a volunteer rings and logs the answer), so
no message is queued for the fictional phone numbers.

The safety check selects everyone within a radius of a point inside the community; the
coordinators have marked most people safe by phone, and one person needs help, which raises an
alert through the ordinary path. It stays open, with the rest not yet accounted for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from commonweal.checkins import safety
from commonweal.checkins import service as checkins
from commonweal.checkins.models import Answer, Channel, CheckinPlan, Recurrence, SafetyStatus
from commonweal.demo._people import Person

__all__ = ["SAFETY_TITLE", "seed_checkins"]

DAILY_PLANS = 5
WINDOW_START_MINUTE = 15 * 60  # 15:00 UTC: 9:00 in Calgary in summer (MDT), 8:00 in winter
HISTORY_DAYS = 4
SAFETY_TITLE = "Power cut after the storm (demo)"
SAFETY_SHARE_MARKED = 0.65


def _plans(session: Session, organisation_id: int, user_id: int, people: list[Person],
           created: dt.datetime) -> list[CheckinPlan]:
    alone = sorted((p for p in people if p.lives_alone and (p.age or 0) >= 65),
                   key=lambda p: (p.degree, p.id))
    plans = [checkins.create_plan(
        session, organisation_id=organisation_id, member_id=p.id, now=created,
        window_start_minute=WINDOW_START_MINUTE, channel=Channel.call,
        question="Good morning! Are you all right today?", assigned_user_ids=[user_id])
        for p in alone[:DAILY_PLANS]]
    if len(alone) > DAILY_PLANS:
        plans.append(checkins.create_plan(
            session, organisation_id=organisation_id, member_id=alone[DAILY_PLANS].id,
            now=created, recurrence=Recurrence.weekly, weekday=created.weekday(),
            window_start_minute=WINDOW_START_MINUTE + 60, channel=Channel.call,
            question="Weekly call: how has your week been?", assigned_user_ids=[user_id]))
    return plans


def _occurrences(session: Session, organisation_id: int, user_id: int, plans: list[CheckinPlan],
                 rng: np.random.Generator, now: dt.datetime) -> dict[str, int]:
    """Open each plan's occurrences up to today's and answer those whose call has happened."""
    end_of_today = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    yesterday = (end_of_today - dt.timedelta(days=2)).date()
    out = {"opened": 0, "answered": 0, "missed_then_reached": 0}
    for k, plan in enumerate(plans):
        opens = checkins.next_opening(plan, plan.created_at)
        while opens < end_of_today:
            checkins.open_plan_occurrence(session, plan_id=plan.id, opens_at=opens, now=opens)
            out["opened"] += 1
            c = checkins.list_checkins(session, organisation_id=organisation_id,
                                       member_id=plan.member_id, limit=1)[0]
            called = opens + dt.timedelta(minutes=float(rng.uniform(5, 50)))
            if k == 0 and opens.date() == yesterday:
                # nobody answered the call: the deadline passes, the alert is raised, then the
                # coordinator gets through and the late "OK" resolves it
                checkins.mark_missed(session, checkin_id=c.id, due_at=c.due_at, now=c.due_at)
                checkins.answer_checkin(session, checkin=c, answer=Answer.ok,
                                        now=c.due_at + dt.timedelta(minutes=25), via=Channel.call,
                                        user_id=user_id, note="Phone was off; all well")
                out["missed_then_reached"] += 1
            elif called <= now:
                checkins.answer_checkin(session, checkin=c, answer=Answer.ok, now=called,
                                        via=Channel.call, user_id=user_id)
                out["answered"] += 1
            opens = checkins.next_opening(plan, opens + dt.timedelta(minutes=1))
    return out


def _safety_check(session: Session, organisation_id: int, community_id: int, user_id: int,
                  people: list[Person], rng: np.random.Generator, now: dt.datetime
                  ) -> dict[str, Any]:
    located = [p for p in people if p.lat is not None and p.lon is not None]
    centre = located[int(rng.integers(len(located)))]
    lat, lon = float(centre.lat or 0), float(centre.lon or 0)
    radius = 0.4
    while radius < 2.0 and sum(
            safety.haversine_km(lat, lon, p.lat or 0, p.lon or 0) <= radius for p in located) < 40:
        radius += 0.1
    created = now - dt.timedelta(hours=2)
    check = safety.create_safety_check(
        session, organisation_id=organisation_id, community_id=community_id,
        title=SAFETY_TITLE,
        message="Power is out across part of the neighbourhood after last night's storm.",
        selector={"kind": "radius", "lat": lat, "lon": lon, "radius_km": round(radius, 1)},
        now=created, channels=(), max_reminders=0, user_id=user_id)
    targets = [m for _, m in safety.list_targets(session, check_id=check.id)]
    by_id = {p.id: p for p in people}
    frail = [m for m in targets if (by_id[m.id].age or 0) >= 70] or targets
    helped = frail[int(rng.integers(len(frail)))]
    rest = [m for m in targets if m.id != helped.id]
    marked = sorted(rng.choice(len(rest), size=round(SAFETY_SHARE_MARKED * len(rest)),
                               replace=False))
    minutes = np.sort(rng.uniform(5, 110, size=len(marked) + 1))
    for j, i in enumerate(marked):
        safety.mark(session, organisation_id=organisation_id, check_id=check.id,
                    member_id=rest[i].id, status=SafetyStatus.safe,
                    now=created + dt.timedelta(minutes=float(minutes[j])), via="staff",
                    user_id=user_id)
    safety.mark(session, organisation_id=organisation_id, check_id=check.id,
                member_id=helped.id, status=SafetyStatus.need_help,
                now=created + dt.timedelta(minutes=float(minutes[-1])), via="staff",
                user_id=user_id, help_category="medicine",
                note="Oxygen concentrator needs power; has about four hours of battery")
    return {"safety_check_id": check.id, **safety.safety_counts(session, check_id=check.id)}


def seed_checkins(session: Session, *, organisation_id: int, community_id: int, user_id: int,
                  people: list[Person], rng: np.random.Generator, now: dt.datetime
                  ) -> dict[str, Any]:
    """Check-in plans with a few days of answered calls, and an open safety check."""
    created = now - dt.timedelta(days=HISTORY_DAYS)
    # its own stream: how many calls there are depends on the hour, the safety check must not
    safety_rng = np.random.default_rng(int(rng.integers(2**63)))
    plans = _plans(session, organisation_id, user_id, people, created)
    out: dict[str, Any] = {"plans": len(plans)}
    out.update(_occurrences(session, organisation_id, user_id, plans, rng, now))
    out["safety_check"] = _safety_check(session, organisation_id, community_id, user_id, people,
                                        safety_rng, now)
    out["open_alerts"] = len(checkins.list_alerts(session, organisation_id=organisation_id))
    return out
