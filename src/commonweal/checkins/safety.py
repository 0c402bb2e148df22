"""Safety checks after an incident: choose the affected people, ask "are you safe?", let them or
others mark them (who and when), route "need help" to coordinators, count, remind, export.

Selectors: ``{"kind": "community"}``, ``{"kind": "group", "group_id": n}``,
``{"kind": "radius", "lat": .., "lon": .., "radius_km": ..}`` (haversine on the member's stored
location) or ``{"kind": "polygon", "points": [[lat, lon], ...]}`` (even-odd ray casting).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Select, Update, bindparam, func, select, update
from sqlalchemy.orm import Session

from commonweal.checkins.escalation import create_alert
from commonweal.checkins.models import (
    AlertReason,
    Channel,
    LinkPurpose,
    OutboxMessage,
    OutboxStatus,
    SafetyCheck,
    SafetyStatus,
    SafetyTarget,
)
from commonweal.checkins.queue import enqueue
from commonweal.db.statements import table_of
from commonweal.errors import ConflictError, InputError, NotFoundError, Problem
from commonweal.registry.models import Community, GroupMembership, Member

__all__ = [
    "close_safety_check",
    "create_safety_check",
    "get_safety_check_or_raise",
    "haversine_km",
    "Marked",
    "list_safety_checks",
    "list_targets",
    "mark",
    "point_in_polygon",
    "safety_counts",
    "send_reminders",
]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance: ``2R asin(sqrt(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))``."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def point_in_polygon(lat: float, lon: float, points: Sequence[Sequence[float]]) -> bool:
    """Even-odd rule (ray casting) on (lat, lon) treated as planar; fine at district scale."""
    inside = False
    n = len(points)
    for i in range(n):
        y1, x1 = points[i][0], points[i][1]
        y2, x2 = points[(i + 1) % n][0], points[(i + 1) % n][1]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def _select_members(session: Session, organisation_id: int, community_id: int,
                    selector: dict[str, Any]) -> list[Member]:
    kind = selector.get("kind")
    base = select(Member).where(Member.organisation_id == organisation_id,
                                Member.community_id == community_id)
    if kind == "community":
        return list(session.scalars(base.order_by(Member.id)))
    if kind == "group":
        gid = selector.get("group_id")
        q = base.join(GroupMembership, GroupMembership.member_id == Member.id).where(
            GroupMembership.group_id == gid)
        return list(session.scalars(q.order_by(Member.id)))
    located = list(session.scalars(base.where(Member.lat.is_not(None)).order_by(Member.id)))
    if kind == "radius":
        try:
            lat, lon, r = float(selector["lat"]), float(selector["lon"]), float(selector["radius_km"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("a radius selector needs lat, lon and radius_km",
                             [Problem(str(exc), field="selector")]) from exc
        return [m for m in located if haversine_km(lat, lon, m.lat or 0, m.lon or 0) <= r]
    if kind == "polygon":
        pts = selector.get("points") or []
        if len(pts) < 3:
            raise InputError("a polygon needs at least 3 [lat, lon] points",
                             [Problem("too few points", field="selector.points")])
        return [m for m in located if point_in_polygon(m.lat or 0, m.lon or 0, pts)]
    raise InputError("unknown selector", [Problem(
        "kind must be community, group, radius or polygon", field="selector.kind")])


def create_safety_check(session: Session, *, organisation_id: int, community_id: int,
                        title: str, message: str, selector: dict[str, Any], now: dt.datetime,
                        channels: Sequence[str] = ("sms", "email"), reminder_minutes: int = 30,
                        max_reminders: int = 3, user_id: int | None = None) -> SafetyCheck:
    """Open a safety check, select the people, and queue their prompts (one transaction)."""
    c = session.get(Community, community_id)
    if c is None or c.organisation_id != organisation_id:
        raise NotFoundError(f"no community {community_id}")
    members = _select_members(session, organisation_id, community_id, selector)
    check = SafetyCheck(organisation_id=organisation_id, community_id=community_id, title=title,
                        message=message, selector=selector, channels=list(channels),
                        reminder_minutes=reminder_minutes, max_reminders=max_reminders,
                        closed=False, created_by_user_id=user_id, created_at=now)
    session.add(check)
    session.flush()
    targets = [SafetyTarget(organisation_id=organisation_id, safety_check_id=check.id,
                            member_id=m.id, status=SafetyStatus.no_answer) for m in members]
    session.add_all(targets)
    session.flush()
    for m, t in zip(members, targets, strict=True):
        _prompt(session, check, t, m, now, round_no=0)
    if max_reminders > 0:
        enqueue(session, organisation_id=organisation_id, key=f"safety_reminder:{check.id}:1",
                kind="safety_reminder", ref_id=check.id, arg=1,
                due_at=now + dt.timedelta(minutes=reminder_minutes))
    return check


def _prompt(session: Session, check: SafetyCheck, target: SafetyTarget, m: Member,
            now: dt.datetime, round_no: int) -> int:
    n = 0
    prefix = "Reminder: " if round_no else ""
    for ch, addr in ((Channel.sms, m.phone), (Channel.email, m.email)):
        if str(ch) in check.channels and addr:
            session.add(OutboxMessage(
                organisation_id=check.organisation_id, key=f"safety:{target.id}:{round_no}:{ch}",
                safety_target_id=target.id, channel=ch, recipient=addr,
                recipient_member_id=m.id, link_purpose=LinkPurpose.safety,
                subject=f"{prefix}{check.title}",
                body=f"{prefix}{check.message} Are you safe? Tell us here: {{link}}",
                status=OutboxStatus.pending, due_at=now, attempts=0, created_at=now))
            n += 1
    return n


def send_reminders(session: Session, *, check_id: int, round_no: int, now: dt.datetime) -> str:
    """Work handler: remind everyone not yet accounted for; schedule the next round."""
    check = session.get(SafetyCheck, check_id)
    if check is None or check.closed:
        return "closed"
    rows = session.execute(select(SafetyTarget, Member).join(Member, Member.id == SafetyTarget.member_id)
                           .where(SafetyTarget.safety_check_id == check.id,
                                  SafetyTarget.status == SafetyStatus.no_answer)).all()
    for t, m in rows:
        _prompt(session, check, t, m, now, round_no)
    if rows and round_no < check.max_reminders:
        enqueue(session, organisation_id=check.organisation_id,
                key=f"safety_reminder:{check.id}:{round_no + 1}", kind="safety_reminder",
                ref_id=check.id, arg=round_no + 1,
                due_at=now + dt.timedelta(minutes=check.reminder_minutes))
    return f"reminded {len(rows)}"


def get_safety_check_or_raise(session: Session, *, organisation_id: int, check_id: int
                              ) -> SafetyCheck:
    c = session.get(SafetyCheck, check_id)
    if c is None or c.organisation_id != organisation_id:
        raise NotFoundError(f"no safety check {check_id}")
    return c


def close_safety_check(session: Session, *, organisation_id: int, check_id: int) -> SafetyCheck:
    """Close a safety check: no more reminders (the reminder handler stops on a closed check);
    marks and counts stay as they are."""
    c = get_safety_check_or_raise(session, organisation_id=organisation_id, check_id=check_id)
    if c.closed:
        raise ConflictError(f"safety check {check_id} is closed already")
    c.closed = True
    session.flush()
    return c


def list_safety_checks(session: Session, *, organisation_id: int) -> Sequence[SafetyCheck]:
    return session.scalars(select(SafetyCheck).where(
        SafetyCheck.organisation_id == organisation_id).order_by(SafetyCheck.id.desc())).all()


@functools.cache
def _mark_statements(by_check: bool, by_target: bool) -> tuple[Select[Any], Update]:
    """The read (need-help only, locking) and the update of a mark, built once per shape."""
    t = table_of(SafetyTarget)
    which = [t.c.organisation_id == bindparam("org")]
    if by_check:
        which.append(t.c.safety_check_id == bindparam("check"))
    which.append(t.c.id == bindparam("target") if by_target
                 else t.c.member_id == bindparam("member"))
    read = select(t.c.status).where(*which).with_for_update()
    write = (update(t).where(*which)
             .values({c: bindparam(f"v_{c}") for c in ("status", "marked_at", "marked_via",
                                                "marked_by_user_id", "marked_by_member_id",
                                                "help_category", "note")})
             .returning(t.c.id, t.c.member_id))
    return read, write


class Marked(NamedTuple):
    """The row a mark changed."""

    id: int
    member_id: int
    status: SafetyStatus
    marked_at: dt.datetime


def mark(session: Session, *, organisation_id: int, check_id: int | None,
         member_id: int | None = None,
         status: SafetyStatus, now: dt.datetime, via: str, user_id: int | None = None,
         by_member_id: int | None = None, help_category: str | None = None,
         note: str | None = None, target_id: int | None = None) -> Marked:
    """Mark one person safe or in need of help (who and when are kept); need-help alerts.

    The person is named by ``member_id`` or, on the single-use link path, by the row's
    ``target_id`` (then ``check_id`` may be None: the row names its check). Marking safe is one
    ``UPDATE``; a need-help mark first reads (and locks) the previous status, because only a
    change *to* need-help raises an alert, and two at once must not raise two.
    """
    if status == SafetyStatus.no_answer:
        raise InputError("mark a person safe or in need of help",
                         [Problem("no_answer cannot be set", field="status")])
    read, write = _mark_statements(check_id is not None, target_id is not None)
    params = {"org": organisation_id, "check": check_id, "target": target_id, "member": member_id}
    missing = (f"member {member_id} is not in safety check {check_id}" if target_id is None
               else "this person is no longer in the safety check")
    conn = session.connection()
    previous: SafetyStatus | None = None
    if status == SafetyStatus.need_help:
        previous = conn.execute(read, params).scalar()
        if previous is None:
            raise NotFoundError(missing)
    row = conn.execute(write, {
        **params, "v_status": status, "v_marked_at": now, "v_marked_via": via,
        "v_marked_by_user_id": user_id, "v_marked_by_member_id": by_member_id,
        "v_help_category": help_category, "v_note": note}).one_or_none()
    if row is None:
        raise NotFoundError(missing)
    if status == SafetyStatus.need_help and previous != SafetyStatus.need_help:
        create_alert(session, organisation_id=organisation_id, member_id=row.member_id,
                     reason=AlertReason.safety_need_help, now=now, safety_target_id=row.id)
    return Marked(row.id, row.member_id, status, now)


def safety_counts(session: Session, *, check_id: int) -> dict[str, int]:
    rows = session.execute(select(SafetyTarget.status, func.count()).where(
        SafetyTarget.safety_check_id == check_id).group_by(SafetyTarget.status)).all()
    out = {s.value: 0 for s in SafetyStatus}
    for s, n in rows:
        out[str(s)] = int(n)
    out["total"] = sum(out[s.value] for s in SafetyStatus)
    return out


def list_targets(session: Session, *, check_id: int, status: SafetyStatus | None = None,
                 limit: int = 1000, offset: int = 0) -> list[tuple[SafetyTarget, Member]]:
    q = (select(SafetyTarget, Member).join(Member, Member.id == SafetyTarget.member_id)
         .where(SafetyTarget.safety_check_id == check_id))
    if status is not None:
        q = q.where(SafetyTarget.status == status)
    rows = session.execute(q.order_by(Member.display_name, Member.id).limit(limit).offset(offset))
    return [(t, m) for t, m in rows.all()]
