"""Check-ins, missed deadlines, escalation ladders and acknowledgement (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commonweal.checkins import service as svc
from commonweal.checkins.models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Answer,
    Channel,
    CheckinStatus,
    OutboxMessage,
)
from commonweal.db.engine import transaction
from commonweal.errors import ConflictError, PermissionDeniedError
from tests.checkins.conftest import drain
from tests.helpers import login, make_client


def _plan(world, clock, member="a0", **kw):  # type: ignore[no-untyped-def]
    with transaction(world.factory) as s:
        p = svc.create_plan(s, organisation_id=world.org_a, member_id=world.members_a[member],
                            now=clock.now(), window_start_minute=9 * 60, window_minutes=60,
                            grace_minutes=15, channel=Channel.sms, **kw)
        return p.id


def _alerts(world):  # type: ignore[no-untyped-def]
    with transaction(world.factory) as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_missed_checkin_escalates_through_the_ladder(world, clock, notifier) -> None:
    _plan(world, clock)
    drain(world.factory, notifier, clock)
    assert notifier.sent == []  # nothing before the window opens at 09:00
    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    prompt = [m for m in notifier.sent if m.key.startswith("prompt:")]
    assert len(prompt) == 1 and prompt[0].recipient == "+1-555-0101"
    assert "http://test/respond?t=" in prompt[0].body
    clock.set(dt.datetime(2026, 11, 2, 10, 14, 59, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    assert _alerts(world) == []  # still within the grace period
    clock.set(dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    assert alert.reason == "missed" and alert.current_tier == 0
    # tier 0 = a0's own supporters: a1 (a0 -> a1 tie), by sms and email
    tier0 = {m.recipient for m in notifier.sent if m.key.startswith(f"alert:{alert.id}:0:")}
    assert tier0 == {"+1-555-0111", "a1@example.org"}
    clock.advance(minutes=10)
    drain(world.factory, notifier, clock)
    tier1 = {m.recipient for m in notifier.sent if m.key.startswith(f"alert:{alert.id}:1:")}
    assert tier1 == {"volunteer.a@example.org"}
    clock.advance(minutes=10)
    drain(world.factory, notifier, clock)
    tier2 = {m.recipient for m in notifier.sent if m.key.startswith(f"alert:{alert.id}:2:")}
    assert tier2 == {"coordinator.a@example.org", "admin.a@example.org", f"org:{world.org_a}"}
    clock.advance(minutes=10)
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    assert alert.exhausted and alert.current_tier == 3
    final = [m for m in notifier.sent if m.key.startswith(f"alert:{alert.id}:3:")]
    assert {m.recipient for m in final} >= {"coordinator.a@example.org", "admin.a@example.org"}
    assert all(m.subject.startswith("URGENT") for m in final)
    with transaction(world.factory) as s:
        kinds = [e.kind for e in s.scalars(select(AlertEvent).where(
            AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))]
    assert kinds == ["created", "tier_notified", "tier_notified", "tier_notified", "exhausted"]
    # nothing is ever sent twice
    keys = notifier.keys()
    assert len(keys) == len(set(keys))


def test_acknowledgement_stops_the_ladder_and_first_wins(world, clock, notifier) -> None:
    _plan(world, clock)
    clock.set(dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    with transaction(world.factory) as s:
        from commonweal.auth.models import User

        vol = s.scalar(select(User.id).where(User.email == "volunteer.a@example.org"))
        coord = s.scalar(select(User.id).where(User.email == "coordinator.a@example.org"))
        svc.acknowledge_alert(s, organisation_id=world.org_a, alert_id=alert.id,
                              now=clock.now(), user_id=vol)
    with pytest.raises(ConflictError), transaction(world.factory) as s:
        svc.acknowledge_alert(s, organisation_id=world.org_a, alert_id=alert.id,
                              now=clock.now(), user_id=coord)
    sent_before = len(notifier.sent)
    clock.advance(hours=2)
    drain(world.factory, notifier, clock)
    assert len(notifier.sent) == sent_before  # no later tier after the acknowledgement
    [alert] = _alerts(world)
    assert alert.status == AlertStatus.acknowledged and alert.owner_user_id == vol


def test_member_cannot_acknowledge_own_alert(world, clock, notifier) -> None:
    from commonweal.auth import service as auth
    from commonweal.auth.models import Role
    from commonweal.checkins.escalation import acknowledge

    _plan(world, clock)
    clock.set(dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    with transaction(world.factory) as s:
        u = auth.create_user(s, email="a0@example.org", display_name="Ada", password="x" * 12)
        auth.grant_role(s, user_id=u.id, organisation_id=world.org_a, role=Role.volunteer)
        uid = u.id
    with pytest.raises(PermissionDeniedError), transaction(world.factory) as s:
        svc.acknowledge_alert(s, organisation_id=world.org_a, alert_id=alert.id,
                              now=clock.now(), user_id=uid)
    with pytest.raises(PermissionDeniedError), transaction(world.factory) as s:
        a = s.get(Alert, alert.id)
        acknowledge(s, alert=a, now=clock.now(), member_id=world.members_a["a0"])
    assert _alerts(world)[0].status == AlertStatus.open
    # through the API and the page the refusal is kept in the trail, with who tried
    c = make_client(world.factory)
    c.app.state.clock = clock
    csrf = login(c, "a0@example.org", "x" * 12)
    r = c.post(f"/api/v1/orgs/{world.org_a}/alerts/{alert.id}/acknowledge")
    assert r.status_code == 403, r.text
    page = c.post(f"/o/{world.org_a}/checkins/alerts/{alert.id}/acknowledge",
                  data={"csrf_token": csrf}, headers={"HX-Request": "true"})
    assert page.status_code == 200 and "yourself" in page.text
    with transaction(world.factory) as s:
        refused = s.scalars(select(AlertEvent).where(
            AlertEvent.alert_id == alert.id, AlertEvent.kind == "acknowledge_refused")).all()
        assert [e.actor_user_id for e in refused] == [uid, uid]
        assert s.get(Alert, alert.id).status == AlertStatus.open  # type: ignore[union-attr]


def test_answers_need_help_uncomfortable_and_duress(world, clock, notifier) -> None:
    _plan(world, clock, duress_code="4321")
    clock.set(dt.datetime(2026, 11, 2, 9, 5, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    with transaction(world.factory) as s:
        [c] = svc.list_checkins(s, organisation_id=world.org_a)
        svc.answer_checkin(s, checkin=c, answer=Answer.ok, code="4321", via=Channel.web,
                           now=clock.now())
        assert c.answer == Answer.duress and c.status == CheckinStatus.answered
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    assert alert.reason == "duress" and alert.current_tier == 2  # straight to coordinators
    assert not any(m.recipient in ("+1-555-0111", "a1@example.org") for m in notifier.sent
                   if m.key.startswith("alert:"))
    # a lone-worker session that ends early raises nothing; "uncomfortable" alerts without blame
    with transaction(world.factory) as s:
        c = svc.start_session(s, organisation_id=world.org_a, member_id=world.members_a["a1"],
                              now=clock.now(), expected_end_at=clock.now() + dt.timedelta(hours=1))
        svc.answer_checkin(s, checkin=c, answer=Answer.uncomfortable, via=Channel.web,
                           now=clock.now())
    drain(world.factory, notifier, clock)
    reasons = sorted(str(a.reason) for a in _alerts(world))
    assert reasons == ["duress", "uncomfortable"]


def test_lone_worker_extend_and_end(world, clock, notifier) -> None:
    end = clock.now() + dt.timedelta(hours=1)
    with transaction(world.factory) as s:
        c = svc.start_session(s, organisation_id=world.org_a, member_id=world.members_a["a2"],
                              now=clock.now(), expected_end_at=end, grace_minutes=10)
        cid = c.id
    clock.advance(minutes=50)
    with transaction(world.factory) as s:
        svc.extend_session(s, organisation_id=world.org_a, checkin_id=cid,
                           new_end_at=end + dt.timedelta(hours=1), now=clock.now())
    clock.advance(minutes=30)  # past the first deadline (1h10), before the new one (2h10)
    drain(world.factory, notifier, clock)
    assert _alerts(world) == []
    clock.advance(minutes=51)
    drain(world.factory, notifier, clock)
    [alert] = _alerts(world)
    assert alert.reason == "missed"
    # a2's supporters: a2 -> a0 tie
    assert {m.recipient for m in notifier.sent if m.key.startswith(f"alert:{alert.id}:0:")} == {
        "+1-555-0101", "a0@example.org"}
    # answering late with OK resolves the missed alert, with a trail entry
    with transaction(world.factory) as s:
        c = svc.get_checkin_or_raise(s, organisation_id=world.org_a, checkin_id=cid)
        svc.answer_checkin(s, checkin=c, answer=Answer.ok, via=Channel.call, now=clock.now())
        assert c.late
    assert _alerts(world)[0].status == AlertStatus.resolved


def test_downtime_catch_up_runs_every_due_item_once(world, clock, notifier) -> None:
    _plan(world, clock)
    clock.advance(hours=24 * 3)  # the worker was down for three days
    drain(world.factory, notifier, clock)
    with transaction(world.factory) as s:
        cs = svc.list_checkins(s, organisation_id=world.org_a)
        n_out = len(list(s.scalars(select(OutboxMessage))))
    assert len(cs) == 3 and all(c.status == CheckinStatus.missed for c in cs)
    assert len(_alerts(world)) == 3
    drain(world.factory, notifier, clock)  # a second pass finds nothing new
    with transaction(world.factory) as s:
        assert len(svc.list_checkins(s, organisation_id=world.org_a)) == 3
        assert len(list(s.scalars(select(OutboxMessage)))) == n_out
    assert len(notifier.keys()) == len(set(notifier.keys())) == n_out


def test_an_alert_that_reaches_nobody_is_flagged_not_lost(world, clock, caplog) -> None:  # type: ignore[no-untyped-def]
    """Every provider refuses (no SMTP, no webhook configured): each failure is in the trail, and
    once every tier has been tried the alert says it reached nobody: in the trail, the worker's
    error log, the API and the page."""
    from commonweal.notify.base import DeliveryError, OutboundMessage, SendResult

    class Refusing:
        def send(self, message: OutboundMessage) -> SendResult:
            raise DeliveryError(f"no notifier configured for {message.channel}", permanent=True)

    refusing = Refusing()
    _plan(world, clock)
    clock.set(dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.UTC))
    drain(world.factory, refusing, clock)
    [alert] = _alerts(world)
    c = make_client(world.factory)
    c.app.state.clock = clock
    login(c, *world.users["coordinator_a"])
    url = f"/api/v1/orgs/{world.org_a}/alerts"
    assert c.get(url).json()[0]["reached_nobody"] is False  # tiers are still to come
    with caplog.at_level("ERROR", logger="commonweal.worker"):
        for _ in range(3):
            clock.advance(minutes=10)
            drain(world.factory, refusing, clock)
    [alert] = _alerts(world)
    assert alert.exhausted and alert.status == AlertStatus.open
    with transaction(world.factory) as s:
        kinds = [e.kind for e in s.scalars(select(AlertEvent).where(
            AlertEvent.alert_id == alert.id).order_by(AlertEvent.id))]
    assert kinds.count("delivery_failed") >= 4 and kinds[-1] == "unreachable"
    assert f"alert {alert.id} has reached nobody" in caplog.text
    assert c.get(url).json()[0]["reached_nobody"] is True
    assert c.get(f"{url}/{alert.id}").json()["reached_nobody"] is True
    page = c.get(f"/o/{world.org_a}/checkins")
    assert f'data-unreachable="{alert.id}"' in page.text
