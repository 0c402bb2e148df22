"""Property test: with a fake clock and a worker that may die at any point, every missed check-in
escalates, every due message is sent, and the only duplicates are flagged crash-after-send ones.

The service level checked after every normal worker pass at time T: no work item and no outbox
message due before ``T - lease`` is left undone (a dead worker's lease must expire first), every
check-in whose deadline passed unanswered has an alert, every alert has reached someone, and an
acknowledged alert gets no new tier afterwards.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from commonweal.auth import service as auth
from commonweal.auth.models import Role
from commonweal.checkins import service as svc
from commonweal.checkins.clock import FakeClock
from commonweal.checkins.models import (
    Alert,
    AlertEvent,
    AlertStatus,
    Answer,
    Channel,
    Checkin,
    CheckinStatus,
    OutboxMessage,
    OutboxStatus,
    WorkItem,
    WorkStatus,
)
from commonweal.db.engine import transaction
from commonweal.notify.base import InMemoryNotifier
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate, MemberCreate, TieCreate
from tests.checkins.conftest import CONFIG, drain

LEASE = dt.timedelta(seconds=CONFIG.lease_seconds)
_orgs = itertools.count(1)


class SimulatedCrash(Exception):
    """The worker process dies here (nothing after this point runs)."""


def _world(factory):  # type: ignore[no-untyped-def]
    n = next(_orgs)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name=f"SM org {n} {id(factory)}")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="c"))
        ids = []
        for i in range(3):
            m = reg.create_member(s, organisation_id=org.id, community_id=c.id, data=MemberCreate(
                external_id=f"m{i}", display_name=f"M{i}", phone=f"+1555{n:04d}{i}",
                email=f"m{i}.{n}@example.org"))
            ids.append(m.id)
        for i in range(3):
            reg.create_tie(s, organisation_id=org.id, data=TieCreate(
                from_member_id=ids[i], to_member_id=ids[(i + 1) % 3], kind="friend"))
        u = auth.create_user(s, email=f"coord{n}.{id(factory)}@example.org", display_name="C",
                             password="x" * 12)
        auth.grant_role(s, user_id=u.id, organisation_id=org.id, role=Role.coordinator)
        return org.id, ids, u.id


def machine_for(factory):  # type: ignore[no-untyped-def]
    class Escalation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.factory = factory
            self.org, self.members, self.coord = _world(factory)
            self.clock = FakeClock(dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC))
            self.notifier = InMemoryNotifier()
            self.crashes_after_send = 0
            self.last_normal_pass: dt.datetime | None = None
            self.worker_no = itertools.count()

        # --- the world ---------------------------------------------------------------------
        @rule(member=st.integers(0, 2), start=st.integers(0, 1439), window=st.integers(5, 120),
              grace=st.integers(0, 30))
        def create_plan(self, member: int, start: int, window: int, grace: int) -> None:
            with transaction(self.factory) as s:
                svc.create_plan(s, organisation_id=self.org, member_id=self.members[member],
                                now=self.clock.now(), window_start_minute=start,
                                window_minutes=window, grace_minutes=grace, channel=Channel.sms)

        @rule(member=st.integers(0, 2), minutes=st.integers(1, 240), grace=st.integers(0, 30))
        def start_session(self, member: int, minutes: int, grace: int) -> None:
            with transaction(self.factory) as s:
                svc.start_session(s, organisation_id=self.org, member_id=self.members[member],
                                  now=self.clock.now(), grace_minutes=grace,
                                  expected_end_at=self.clock.now() + dt.timedelta(minutes=minutes))

        @rule(pick=st.integers(0, 50),
              answer=st.sampled_from([Answer.ok, Answer.ok, Answer.need_help,
                                      Answer.uncomfortable]))
        def answer(self, pick: int, answer: Answer) -> None:
            with transaction(self.factory) as s:
                open_ = s.scalars(select(Checkin).where(
                    Checkin.organisation_id == self.org, Checkin.status == CheckinStatus.pending,
                    Checkin.due_at > self.clock.now()).order_by(Checkin.id)).all()
                if not open_:
                    return
                c = open_[pick % len(open_)]
                svc.answer_checkin(s, checkin=c, answer=answer, via=Channel.web,
                                   help_category="food" if answer == Answer.need_help else None,
                                   now=self.clock.now())

        @rule(pick=st.integers(0, 50))
        def acknowledge(self, pick: int) -> None:
            with transaction(self.factory) as s:
                alerts = s.scalars(select(Alert).where(Alert.organisation_id == self.org,
                                                       Alert.status == AlertStatus.open)
                                   .order_by(Alert.id)).all()
                if alerts:
                    svc.acknowledge_alert(s, organisation_id=self.org,
                                          alert_id=alerts[pick % len(alerts)].id,
                                          now=self.clock.now(), user_id=self.coord)

        @rule(minutes=st.integers(0, 180), seconds=st.integers(0, 59))
        def advance(self, minutes: int, seconds: int) -> None:
            self.clock.advance(minutes=minutes, seconds=seconds)

        # --- the worker ---------------------------------------------------------------------
        @rule()
        def worker_pass(self) -> None:
            drain(self.factory, self.notifier, self.clock, worker_id=f"w{next(self.worker_no)}")
            self.last_normal_pass = self.clock.now()

        @rule(point=st.sampled_from(["work_claimed", "work_before_commit", "before_send",
                                     "after_send"]), nth=st.integers(0, 3))
        def worker_dies(self, point: str, nth: int) -> None:
            seen = itertools.count()

            def crash(where: str, _id: int) -> None:
                if where == point and next(seen) == nth:
                    if where == "after_send":
                        self.crashes_after_send += 1
                    raise SimulatedCrash(where)

            try:
                drain(self.factory, self.notifier, self.clock,
                      worker_id=f"w{next(self.worker_no)}", crash=crash)
            except SimulatedCrash:
                pass
            self.last_normal_pass = None

        # --- what must always hold ----------------------------------------------------------
        @precondition(lambda self: self.last_normal_pass is not None)
        @invariant()
        def nothing_due_is_left_behind(self) -> None:
            t = self.last_normal_pass
            assert t is not None
            horizon = t - LEASE
            with transaction(self.factory) as s:
                late_work = s.scalars(select(WorkItem).where(
                    WorkItem.organisation_id == self.org, WorkItem.status != WorkStatus.done,
                    WorkItem.due_at <= horizon)).all()
                # allowed only while a dead worker's lease has not run out yet
                held = [w for w in late_work if w.status == WorkStatus.leased
                        and w.lease_until is not None and w.lease_until >= t]
                assert len(held) == len(late_work), [(w.key, w.status, w.lease_until)
                                                     for w in late_work]
                unsent = s.scalars(select(OutboxMessage).where(
                    OutboxMessage.organisation_id == self.org,
                    OutboxMessage.status != OutboxStatus.sent,
                    OutboxMessage.due_at <= horizon)).all()
                held_msgs = [m for m in unsent if m.status == OutboxStatus.sending
                             and m.lease_until is not None and m.lease_until >= t]
                assert len(held_msgs) == len(unsent), [(m.key, m.status) for m in unsent]
                if held or held_msgs:
                    return  # the rest is checked at the first pass after the lease expires
                missed = s.scalars(select(Checkin).where(
                    Checkin.organisation_id == self.org, Checkin.due_at <= horizon,
                    Checkin.status == CheckinStatus.pending)).all()
                assert not missed, "a check-in past its deadline is still pending"
                for c in s.scalars(select(Checkin).where(Checkin.organisation_id == self.org,
                                                         Checkin.status == CheckinStatus.missed)):
                    if c.kind == "pulse":
                        continue
                    alert = s.scalar(select(Alert).where(Alert.checkin_id == c.id,
                                                         Alert.reason == "missed"))
                    assert alert is not None, f"missed check-in {c.id} has no alert"
                    # a person who acknowledged it owns it: that counts as reached, even when
                    # they did so (from the alerts page) before the first message went out
                    owned = alert.acknowledged_at is not None and (
                        alert.owner_user_id is not None or alert.owner_member_id is not None)
                    # the person answered OK after the deadline: the alert is resolved (and the
                    # trail says so) because they are accounted for, not because it was dropped
                    owned = owned or (alert.status == AlertStatus.resolved and c.late
                                      and c.answer == Answer.ok)
                    if alert.created_at <= horizon and not owned:
                        keys = {m.key for m in self.notifier.sent}
                        assert any(k.startswith(f"alert:{alert.id}:") for k in keys), (
                            f"alert {alert.id} reached nobody")

        @invariant()
        def duplicates_only_after_a_crash_after_send(self) -> None:
            counts = Counter(self.notifier.keys())
            dups = {k: n for k, n in counts.items() if n > 1}
            assert sum(n - 1 for n in dups.values()) <= self.crashes_after_send
            if dups:
                with transaction(self.factory) as s:
                    flagged = set(s.scalars(select(OutboxMessage.key).where(
                        OutboxMessage.key.in_(list(dups)),
                        OutboxMessage.suspected_duplicate.is_(True))))
                assert flagged == set(dups)

        @invariant()
        def no_tier_after_acknowledgement(self) -> None:
            with transaction(self.factory) as s:
                for a in s.scalars(select(Alert).where(Alert.organisation_id == self.org,
                                                       Alert.acknowledged_at.is_not(None))):
                    later = s.scalars(select(AlertEvent).where(
                        AlertEvent.alert_id == a.id, AlertEvent.kind == "tier_notified",
                        AlertEvent.at > a.acknowledged_at)).all()
                    assert not later

    return Escalation


@pytest.mark.slow
def test_escalation_never_lost_state_machine(db) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    pg = db.kw.get("bind") is not None
    run_state_machine_as_test(machine_for(db), settings=settings(
        max_examples=8 if pg else 20, phases=[Phase.explicit, Phase.reuse, Phase.generate],
        stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
