"""The exchange workflow with a fake clock: claims expire exactly at their due time, take-over
requests auto-approve, duplicates are flagged, completion books time and records a tie."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commonweal.db.engine import transaction
from commonweal.errors import ConflictError, PermissionDeniedError
from commonweal.mutual_aid import ledger, service, workflow
from commonweal.mutual_aid.models import AidNeed, Claim
from commonweal.mutual_aid.schemas import (
    CommunitySettingsUpdate,
    NeedCreate,
    NoteCreate,
    VolunteerUpsert,
)
from commonweal.mutual_aid.vocab import Channel, ClaimState, NeedStatus, TakeoverState
from commonweal.registry.models import Tie


def _mode(s, world, mode: str, **kw) -> None:
    service.update_community_settings(
        s,
        organisation_id=world.org_a,
        community_id=world.community_a,
        data=CommunitySettingsUpdate(moderation_mode=mode, **kw),
    )


def _need(s, world, clock, **kw) -> AidNeed:
    data = {"category": "groceries", "lat": 51.5, "lon": -0.12, **kw}
    return service.create_need(
        s,
        organisation_id=world.org_a,
        community_id=world.community_a,
        data=NeedCreate(**data),
        channel=Channel.api,
        clock=clock,
    )


def _claimed(w, clock, ttl_s: int) -> tuple[int, int]:
    """A peer-to-peer need claimed by volunteer_a: (need id, claim id)."""
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer", claim_ttl_s=ttl_s)
        need = _need(s, w, clock)
        claim = workflow.claim_need(
            s, organisation_id=w.org_a, need_id=need.id, user_id=w.user_ids["volunteer_a"],
            clock=clock
        )
        assert claim.state == ClaimState.active and need.status == NeedStatus.claimed
        assert claim.due_at == clock.now() + dt.timedelta(seconds=ttl_s)
        return need.id, claim.id


def test_claims_expire_exactly_at_due_time(aid_world, clock) -> None:
    w, vol = aid_world, aid_world.user_ids["volunteer_a"]
    nid, cid = _claimed(w, clock, 3600)
    clock.advance(3599)
    with transaction(w.factory) as s:
        assert workflow.sweep(s, organisation_id=w.org_a, clock=clock).expired_claims == ()
        assert s.get(Claim, cid).state == ClaimState.active
    clock.advance(1)  # exactly the due time
    with transaction(w.factory) as s:
        assert workflow.sweep(s, organisation_id=w.org_a, clock=clock).expired_claims == (cid,)
        assert s.get(Claim, cid).state == ClaimState.expired
        assert s.get(AidNeed, nid).status == NeedStatus.open
        # the volunteer lost the right to the details with the claim
        assert (
            service.reveal_reason(s, need=s.get(AidNeed, nid), user_id=vol, dispatcher=False)
            is None
        )
        assert workflow.sweep(s, organisation_id=w.org_a, clock=clock).expired_claims == ()


def test_activity_restarts_the_claim_clock(aid_world, clock) -> None:
    w, vol = aid_world, aid_world.user_ids["volunteer_a"]
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer", claim_ttl_s=3600)
        nid = _need(s, w, clock).id
        cid = workflow.claim_need(
            s, organisation_id=w.org_a, need_id=nid, user_id=vol, clock=clock
        ).id
    clock.advance(3000)
    with transaction(w.factory) as s:
        workflow.start(
            s, organisation_id=w.org_a, need_id=nid, user_id=vol, dispatcher=False, clock=clock
        )
    clock.advance(3000)  # 6000 s after the claim, 3000 s after starting
    with transaction(w.factory) as s:
        workflow.sweep(s, organisation_id=w.org_a, clock=clock)
        assert s.get(Claim, cid).state == ClaimState.active
        assert s.get(AidNeed, nid).status == NeedStatus.in_progress
    clock.advance(600)
    with transaction(w.factory) as s:
        workflow.sweep(s, organisation_id=w.org_a, clock=clock)
        assert s.get(Claim, cid).state == ClaimState.expired


def test_takeover_auto_approves_when_the_holder_is_silent(aid_world, clock) -> None:
    w = aid_world
    v1, v2 = w.user_ids["volunteer_a"], w.user_ids["volunteer2_a"]
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer", claim_ttl_s=10 * 86400, takeover_ttl_s=7200)
        nid = _need(s, w, clock).id
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v1, clock=clock)
        with pytest.raises(ConflictError, match="take over"):
            workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v2, clock=clock)
        tk = workflow.ask_takeover(
            s,
            organisation_id=w.org_a,
            need_id=nid,
            user_id=v2,
            clock=clock,
            message="I live next door",
        )
        tid = tk.id
        with pytest.raises(PermissionDeniedError):  # the asker cannot approve their own request
            workflow.decide_takeover(
                s,
                organisation_id=w.org_a,
                takeover_id=tid,
                user_id=v2,
                dispatcher=False,
                approve=True,
                clock=clock,
            )
    clock.advance(7199)
    with transaction(w.factory) as s:
        assert workflow.sweep(s, organisation_id=w.org_a, clock=clock).auto_approved_takeovers == ()
    clock.advance(1)
    with transaction(w.factory) as s:
        res = workflow.sweep(s, organisation_id=w.org_a, clock=clock)
        assert res.auto_approved_takeovers == (tid,)
        held = workflow.active_claim(s, need=s.get(AidNeed, nid))
        assert held.volunteer_user_id == v2
        states = {
            c.volunteer_user_id: c.state
            for c in workflow.list_claims(s, organisation_id=w.org_a, need_id=nid)
        }
        assert states == {v1: ClaimState.taken_over, v2: ClaimState.active}


def test_holder_can_decline_a_takeover(aid_world, clock) -> None:
    w = aid_world
    v1, v2 = w.user_ids["volunteer_a"], w.user_ids["volunteer2_a"]
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer")
        nid = _need(s, w, clock).id
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v1, clock=clock)
        tk = workflow.ask_takeover(s, organisation_id=w.org_a, need_id=nid, user_id=v2, clock=clock)
        workflow.decide_takeover(
            s,
            organisation_id=w.org_a,
            takeover_id=tk.id,
            user_id=v1,
            dispatcher=False,
            approve=False,
            clock=clock,
        )
        assert tk.state == TakeoverState.declined
    clock.advance(30 * 86400 - 1)
    with transaction(w.factory) as s:
        assert workflow.sweep(s, organisation_id=w.org_a, clock=clock).auto_approved_takeovers == ()


def test_dispatcher_assisted_claims_wait_and_vetting_guards_sensitive_needs(
    aid_world, clock
) -> None:
    w = aid_world
    v1, v2, coord = (w.user_ids[k] for k in ("volunteer_a", "volunteer2_a", "coordinator_a"))
    with transaction(w.factory) as s:
        _mode(s, w, "dispatcher_assisted")
        nid = _need(s, w, clock).id
        c1 = workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v1, clock=clock)
        c2 = workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v2, clock=clock)
        assert c1.state == c2.state == ClaimState.requested
        assert (
            service.reveal_reason(s, need=s.get(AidNeed, nid), user_id=v1, dispatcher=False) is None
        )
        workflow.assign(
            s,
            organisation_id=w.org_a,
            need_id=nid,
            volunteer_user_id=v2,
            offer_id=None,
            by_user_id=coord,
            clock=clock,
        )
        assert (c1.state, c2.state) == (ClaimState.declined, ClaimState.active)
        assert (
            service.reveal_reason(s, need=s.get(AidNeed, nid), user_id=v2, dispatcher=False)
            == "matched"
        )
        rx = _need(s, w, clock, category="prescriptions").id
        with pytest.raises(PermissionDeniedError, match="vetted"):
            workflow.claim_need(s, organisation_id=w.org_a, need_id=rx, user_id=v1, clock=clock)
        service.upsert_volunteer(
            s,
            organisation_id=w.org_a,
            data=VolunteerUpsert(user_id=v1, vetted=True, vetting_flags={"dbs_check": True}),
        )
        assert (
            workflow.claim_need(
                s, organisation_id=w.org_a, need_id=rx, user_id=v1, clock=clock
            ).state
            == ClaimState.requested
        )


def test_fully_moderated_needs_wait_for_approval(aid_world, clock) -> None:
    w = aid_world
    with transaction(w.factory) as s:
        _mode(s, w, "fully_moderated")
        n = _need(s, w, clock)
        assert not n.approved
        board, total = service.list_needs(s, organisation_id=w.org_a, community_id=w.community_a)
        assert total == 0
        with pytest.raises(PermissionDeniedError):
            workflow.claim_need(
                s,
                organisation_id=w.org_a,
                need_id=n.id,
                user_id=w.user_ids["volunteer_a"],
                clock=clock,
            )
        workflow.set_status(
            s,
            organisation_id=w.org_a,
            need_id=n.id,
            status=NeedStatus.open,
            user_id=w.user_ids["coordinator_a"],
            dispatcher=True,
            clock=clock,
        )
        assert service.list_needs(s, organisation_id=w.org_a, community_id=w.community_a)[1] == 1


def test_duplicates_same_person_place_category_within_window(aid_world, clock) -> None:
    w = aid_world
    with transaction(w.factory) as s:
        _mode(s, w, "dispatcher_assisted", duplicate_window_s=3600, duplicate_radius_m=150)
        first = _need(s, w, clock, contact="+44 7700 900123", lat=51.50000, lon=-0.12000)
        clock.advance(600)
        # same phone written differently, 100 m away, same category -> suspected duplicate
        dup = _need(s, w, clock, contact="07700 900123", lat=51.50090, lon=-0.12000)
        assert dup.suspected_duplicate_of_id == first.id
        # another category, another place, another person: not duplicates
        assert (
            _need(
                s, w, clock, contact="07700 900123", category="transport"
            ).suspected_duplicate_of_id
            is None
        )
        assert (
            _need(
                s, w, clock, contact="07700 900123", lat=51.51, lon=-0.12
            ).suspected_duplicate_of_id
            is None
        )
        assert _need(s, w, clock, contact="07700 111222").suspected_duplicate_of_id is None
        clock.advance(3600)  # outside the window of the first (but not of `dup`)
        late = _need(s, w, clock, contact="+447700900123", lat=51.5, lon=-0.12)
        assert late.suspected_duplicate_of_id == dup.id
        workflow.set_status(
            s,
            organisation_id=w.org_a,
            need_id=late.id,
            status=NeedStatus.duplicate,
            duplicate_of_id=dup.id,
            user_id=w.user_ids["coordinator_a"],
            dispatcher=True,
            clock=clock,
        )
        assert late.status == NeedStatus.duplicate and late.duplicate_of_id == dup.id


def test_completion_books_time_and_records_an_exchange_tie(aid_world, clock) -> None:
    w = aid_world
    vol, requester = w.user_ids["volunteer_a"], w.members_a["a2"]
    giver = w.members_a["a1"]
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer")
        service.upsert_volunteer(
            s, organisation_id=w.org_a, data=VolunteerUpsert(user_id=vol, member_id=giver)
        )
        nid = _need(s, w, clock, requester_member_id=requester, category="check_in").id
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=vol, clock=clock)
        with pytest.raises(PermissionDeniedError):
            workflow.complete(
                s,
                organisation_id=w.org_a,
                need_id=nid,
                user_id=w.user_ids["volunteer2_a"],
                dispatcher=False,
                clock=clock,
            )
        workflow.complete(
            s,
            organisation_id=w.org_a,
            need_id=nid,
            user_id=vol,
            dispatcher=False,
            clock=clock,
            duration_s=2700,
        )
        assert s.get(AidNeed, nid).status == NeedStatus.fulfilled
        tie = s.scalars(
            select(Tie).where(Tie.from_member_id == requester, Tie.to_member_id == giver)
        ).one()
        assert str(tie.source) == "exchange" and tie.support_mask == 1 << 4  # companionship
        bal = {a.member_id: a.balance_s for a in ledger.list_accounts(s, organisation_id=w.org_a)}
        assert bal == {requester: -2700, giver: 2700}
        # feedback from both sides after completion
        workflow.add_note(
            s,
            organisation_id=w.org_a,
            need_id=nid,
            user_id=vol,
            dispatcher=False,
            data=NoteCreate(kind="feedback", rating=5, text="lovely chat"),
            clock=clock,
        )
        s.get(AidNeed, nid).requester_user_id = w.user_ids["member_a"]
        workflow.add_note(
            s,
            organisation_id=w.org_a,
            need_id=nid,
            user_id=w.user_ids["member_a"],
            dispatcher=False,
            data=NoteCreate(kind="follow_up", text="could she call weekly?"),
            clock=clock,
        )
        notes = workflow.list_notes(s, organisation_id=w.org_a, need_id=nid)
        assert [(n.side, str(n.kind)) for n in notes] == [
            ("volunteer", "feedback"),
            ("requester", "follow_up"),
        ]
        assert s.get(AidNeed, nid).status == NeedStatus.needs_follow_up
        with pytest.raises(PermissionDeniedError):
            workflow.add_note(
                s,
                organisation_id=w.org_a,
                need_id=nid,
                user_id=w.user_ids["volunteer2_a"],
                dispatcher=False,
                data=NoteCreate(kind="feedback", text="?"),
                clock=clock,
            )


def test_the_database_allows_one_active_claim_per_need(aid_world, clock) -> None:
    """Even a writer that skips the service cannot give one need two accepted matches."""
    from sqlalchemy.exc import IntegrityError

    w = aid_world
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer")
        nid = _need(s, w, clock).id
        workflow.claim_need(
            s, organisation_id=w.org_a, need_id=nid, user_id=w.user_ids["volunteer_a"], clock=clock
        )
    with pytest.raises(IntegrityError), transaction(w.factory) as s:
        s.add(
            Claim(
                organisation_id=w.org_a,
                need_id=nid,
                volunteer_user_id=w.user_ids["volunteer2_a"],
                state=ClaimState.active,
            )
        )
        s.flush()


def test_the_worker_sweeps_stale_claims(aid_world, clock) -> None:
    """`commonweal worker` runs the sweep on every pass: nobody has to call /aid/sweep."""
    import threading

    from commonweal.checkins.worker import run_worker
    from commonweal.notify.base import InMemoryNotifier

    w = aid_world
    nid, cid = _claimed(w, clock, 600)
    stats = run_worker(w.factory, InMemoryNotifier(), clock, threading.Event(), once=True)
    assert stats.aid_claims_expired == 0
    clock.advance(600)
    stats = run_worker(w.factory, InMemoryNotifier(), clock, threading.Event(), once=True)
    assert stats.aid_claims_expired == 1
    with transaction(w.factory) as s:
        assert s.get(Claim, cid).state == ClaimState.expired
        assert s.get(AidNeed, nid).status == NeedStatus.open


def test_volunteers_hear_about_their_claims_without_private_details(aid_world, clock) -> None:
    """Matched, declined, handed over, expired: each volunteer gets one email through the outbox
    (sent by the worker), with the request's number, category and area only."""
    import threading

    from commonweal.checkins.models import OutboxMessage
    from commonweal.checkins.worker import WorkerConfig, run_worker
    from commonweal.notify.base import InMemoryNotifier

    w = aid_world
    v1, v2, coord = (w.user_ids[k] for k in ("volunteer_a", "volunteer2_a", "coordinator_a"))
    with transaction(w.factory) as s:
        _mode(s, w, "dispatcher_assisted", claim_ttl_s=600)
        nid = _need(s, w, clock, area="Mill Lane", address="4 Wren Row",
                    contact="07700 900555").id
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v1, clock=clock)
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=v2, clock=clock)
        workflow.assign(s, organisation_id=w.org_a, need_id=nid, volunteer_user_id=v2,
                        offer_id=None, by_user_id=coord, clock=clock)
    notifier = InMemoryNotifier()
    config = WorkerConfig(public_url="https://aid.example.org")
    run_worker(w.factory, notifier, clock, threading.Event(), once=True, config=config)
    got = {(m.recipient, m.subject) for m in notifier.sent}
    assert got == {("volunteer2.a@example.org", "You have been matched with a request"),
                   (w.users["volunteer_a"][0], "Your claim was declined")}
    [matched] = [m for m in notifier.sent if m.recipient == "volunteer2.a@example.org"]
    assert f"request #{nid} (groceries in Mill Lane)" in matched.body
    assert f"https://aid.example.org/o/{w.org_a}/c/{w.community_a}/aid/mine" in matched.body
    assert not any("Wren" in m.body or "900555" in m.body for m in notifier.sent)
    clock.advance(600)  # no activity: the claim expires on the worker's next pass
    run_worker(w.factory, notifier, clock, threading.Event(), once=True, config=config)
    assert notifier.sent[-1].subject == "Your claim has expired"
    run_worker(w.factory, notifier, clock, threading.Event(), once=True, config=config)
    with transaction(w.factory) as s:  # once per claim and event, however often the worker runs
        assert len(s.scalars(select(OutboxMessage)).all()) == 3


def test_the_requester_hears_that_a_volunteer_took_their_request(aid_world, clock) -> None:
    """By SMS to their member record (erased with the member), never to a contact known only on
    the need, and never after they refused contact."""
    from commonweal.checkins.models import OutboxMessage
    from commonweal.members import erase_member_everywhere
    from commonweal.registry import service as reg
    from commonweal.registry.vocab import ConsentPurpose

    w, vol = aid_world, aid_world.user_ids["volunteer_a"]
    a1 = w.members_a["a1"]  # has a phone (+1-555-0111)
    with transaction(w.factory) as s:
        _mode(s, w, "peer_to_peer")
        linked = _need(s, w, clock, requester_member_id=a1, contact="07700 900111").id
        anonymous = _need(s, w, clock, contact="07700 900222").id
        for nid in (linked, anonymous):
            workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=vol, clock=clock)
    with transaction(w.factory) as s:
        rows = s.scalars(select(OutboxMessage)).all()
        assert [(m.channel, m.recipient, m.recipient_member_id) for m in rows] == [
            ("sms", "+1-555-0111", a1)]
        assert "900" not in rows[0].body and "vic" not in rows[0].body.lower()
    # erasing the member erases the message addressed to them
    with transaction(w.factory) as s:
        erase_member_everywhere(s, organisation_id=w.org_a, member_id=a1)
    with transaction(w.factory) as s:
        assert s.scalars(select(OutboxMessage)).all() == []
        # a member who refused contact is not messaged
        a2 = w.members_a["a2"]
        reg.record_consent(s, organisation_id=w.org_a, member_id=a2,
                           purpose=ConsentPurpose.contact, granted=False, by_user_id=None)
        nid = _need(s, w, clock, requester_member_id=a2).id
        workflow.claim_need(s, organisation_id=w.org_a, need_id=nid, user_id=vol, clock=clock)
        assert s.scalars(select(OutboxMessage)).all() == []
