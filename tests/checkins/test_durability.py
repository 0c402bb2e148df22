"""Durable work: concurrent workers never double-claim, a crash between send and mark causes at most
one flagged duplicate, the outbox row and its cause commit together, expired leases are swept."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from commonweal.checkins import safety
from commonweal.checkins import service as svc
from commonweal.checkins.models import Channel, OutboxMessage, OutboxStatus, WorkItem, WorkStatus
from commonweal.checkins.queue import claim_work, enqueue, take_tokens
from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.models import Base
from tests.checkins.conftest import CONFIG, drain
from tests.helpers import build_world


class Crash(Exception):
    pass


def _safety_check(world, clock, n_extra: int = 0):  # type: ignore[no-untyped-def]
    from commonweal.registry import service as reg
    from commonweal.registry.schemas import MemberCreate

    with transaction(world.factory) as s:
        for i in range(n_extra):
            reg.create_member(s, organisation_id=world.org_a, community_id=world.community_a,
                              data=MemberCreate(external_id=f"x{i}", display_name=f"X {i}",
                                                phone=f"+1999{i:05d}"))
        c = safety.create_safety_check(s, organisation_id=world.org_a,
                                       community_id=world.community_a, title="Flood",
                                       message="River is over the banks.",
                                       selector={"kind": "community"}, now=clock.now(),
                                       channels=["sms"])
        return c.id


def test_crash_between_send_and_mark_gives_one_flagged_duplicate(world, clock, notifier) -> None:
    _safety_check(world, clock)
    first = True

    def crash(where: str, _id: int) -> None:
        nonlocal first
        if where == "after_send" and first:
            first = False
            raise Crash

    with pytest.raises(Crash):
        drain(world.factory, notifier, clock, worker_id="dies", crash=crash)
    assert len(notifier.sent) == 1
    drain(world.factory, notifier, clock, worker_id="w2")
    assert len(notifier.sent) == 1  # the dead worker's batch stays leased until its lease expires
    clock.advance(seconds=CONFIG.lease_seconds + 1)
    drain(world.factory, notifier, clock, worker_id="w2")
    counts = Counter(notifier.keys())
    assert sorted(counts.values()) == [1, 1, 2]  # exactly one duplicate
    [dup] = [k for k, n in counts.items() if n == 2]
    with transaction(world.factory) as s:
        flagged = s.scalars(select(OutboxMessage.key).where(
            OutboxMessage.suspected_duplicate.is_(True))).all()
        assert flagged == [dup]
        assert s.scalar(select(func.count()).where(
            OutboxMessage.status != OutboxStatus.sent)) == 0


def test_crash_before_send_loses_nothing(world, clock, notifier) -> None:
    _safety_check(world, clock)

    def crash(where: str, _id: int) -> None:
        if where == "before_send":
            raise Crash

    with pytest.raises(Crash):
        drain(world.factory, notifier, clock, worker_id="dies", crash=crash)
    assert notifier.sent == []
    clock.advance(seconds=CONFIG.lease_seconds + 1)
    drain(world.factory, notifier, clock)
    assert len(notifier.sent) == 3 and len(set(notifier.keys())) == 3


def test_outbox_row_and_cause_commit_together(world, clock) -> None:
    with pytest.raises(RuntimeError), transaction(world.factory) as s:
        safety.create_safety_check(s, organisation_id=world.org_a, community_id=world.community_a,
                                   title="T", message="M", selector={"kind": "community"},
                                   now=clock.now())
        raise RuntimeError("crash after the business insert")
    with transaction(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(WorkItem)) == 0


def test_unique_key_makes_a_second_send_impossible(world, clock) -> None:
    from sqlalchemy.exc import IntegrityError

    _safety_check(world, clock)
    with pytest.raises(IntegrityError), transaction(world.factory) as s:
        m = s.scalars(select(OutboxMessage)).first()
        assert m is not None
        s.add(OutboxMessage(organisation_id=m.organisation_id, key=m.key + "-other",
                            alert_id=None, channel=m.channel, recipient=m.recipient,
                            subject="s", body="b", status=OutboxStatus.pending, due_at=clock.now(),
                            created_at=clock.now(), attempts=0))
        s.add(OutboxMessage(organisation_id=m.organisation_id, key=m.key, channel=m.channel,
                            recipient=m.recipient, subject="s", body="b",
                            status=OutboxStatus.pending, due_at=clock.now(),
                            created_at=clock.now(), attempts=0))


def test_enqueue_is_idempotent_and_leases_expire(world, clock) -> None:
    with transaction(world.factory) as s:
        for _ in range(3):
            enqueue(s, organisation_id=world.org_a, key="k1", kind="escalate", ref_id=1,
                    due_at=clock.now())
    with transaction(world.factory) as s:
        assert s.scalar(select(func.count()).select_from(WorkItem)) == 1
        ids = claim_work(s, now=clock.now(), worker_id="a", limit=10,
                         lease=dt.timedelta(seconds=30))
        assert len(ids) == 1
    with transaction(world.factory) as s:
        assert claim_work(s, now=clock.now(), worker_id="b", limit=10,
                          lease=dt.timedelta(seconds=30)) == []
    from commonweal.checkins.queue import sweep_expired

    clock.advance(seconds=31)
    with transaction(world.factory) as s:
        assert sweep_expired(s, now=clock.now()) == (1, 0)
        again = claim_work(s, now=clock.now(), worker_id="b", limit=10,
                           lease=dt.timedelta(seconds=30))
        assert again == ids
        assert s.get(WorkItem, ids[0]).attempts == 2  # type: ignore[union-attr]


def test_rate_limit_defers_and_never_drops(world, clock, notifier) -> None:
    from commonweal.checkins.worker import WorkerConfig

    _safety_check(world, clock, n_extra=7)  # 10 members with a phone
    cfg = WorkerConfig(public_url="http://test", rate_per_second={"sms": 2.0},
                       burst={"sms": 4.0})
    stats = drain(world.factory, notifier, clock, config=cfg)
    assert len(notifier.sent) == 4 and stats.deferred == 6
    clock.advance(seconds=1)
    drain(world.factory, notifier, clock, config=cfg)
    assert len(notifier.sent) == 6
    clock.advance(seconds=10)
    drain(world.factory, notifier, clock, config=cfg)
    assert len(notifier.sent) == 10 and len(set(notifier.keys())) == 10
    with transaction(world.factory) as s:
        assert take_tokens(s, organisation_id=world.org_b, name="sms", wanted=100,
                           rate_per_second=1, burst=5, now=clock.now()) == 5  # per organisation


def test_two_workers_on_file_databases_never_double_send(tmp_path, clock, notifier, request) -> None:
    """Two worker threads with their own connections claim concurrently (SQLite file with
    BEGIN IMMEDIATE; PostgreSQL with SKIP LOCKED); every message is sent exactly once."""
    urls = [f"sqlite:///{tmp_path / 'two.db'}"]
    try:
        # a database of its own: this test really commits from two connections
        urls.append(request.getfixturevalue("fresh_pg_url"))
    except pytest.skip.Exception:
        pass
    for url in urls:
        engine = make_engine(url)
        request.addfinalizer(engine.dispose)  # also when an assertion below fails
        if url.startswith("sqlite"):
            Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
        world = build_world(factory) if url.startswith("sqlite") else None
        if world is None:  # PostgreSQL: an empty fresh database; make one
            import uuid

            from commonweal.registry import service as reg
            from commonweal.registry.schemas import CommunityCreate, MemberCreate

            with transaction(factory) as s:
                org = reg.create_organisation(s, name=f"two-workers {uuid.uuid4().hex[:8]}")
                c = reg.create_community(s, organisation_id=org.id,
                                         data=CommunityCreate(name="c"))
                for i in range(3):
                    reg.create_member(s, organisation_id=org.id, community_id=c.id,
                                      data=MemberCreate(external_id=f"m{i}", display_name="M",
                                                        phone=f"+1777{i}"))
                org_id, community_id = org.id, c.id
        else:
            org_id, community_id = world.org_a, world.community_a
        from commonweal.registry import service as reg
        from commonweal.registry.schemas import MemberCreate

        with transaction(factory) as s:
            for i in range(300):
                reg.create_member(s, organisation_id=org_id, community_id=community_id,
                                  data=MemberCreate(external_id=f"y{i}", display_name=f"Y {i}",
                                                    phone=f"+1888{i:05d}"))
            check = safety.create_safety_check(
                s, organisation_id=org_id, community_id=community_id, title="T", message="M",
                selector={"kind": "community"}, now=clock.now(), channels=["sms"])
            s.flush()
            expected = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.safety_target_id.is_not(None),
                OutboxMessage.organisation_id == org_id))
        sent_before = len(notifier.sent)
        cfg = CONFIG.__class__(public_url="http://t", batch=20, lease_seconds=30,
                               rate_per_second=CONFIG.rate_per_second, burst=CONFIG.burst)
        errors: list[BaseException] = []

        def work(name: str, factory=factory, cfg=cfg, errors=errors) -> None:  # type: ignore[no-untyped-def]
            try:
                drain(factory, notifier, clock, worker_id=name, config=cfg)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        keys = [m.key for m in notifier.sent[sent_before:]]
        assert len(keys) == expected == len(set(keys)), url
        with transaction(factory) as s:
            assert s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.organisation_id == org_id,
                OutboxMessage.status != OutboxStatus.sent)) == 0
            # clean up the PostgreSQL rows of this test (the session database is shared)
            if not url.startswith("sqlite"):
                from commonweal.registry.models import Organisation

                s.delete(s.get(Organisation, org_id))
        assert check.id > 0


def test_lone_worker_deadline_is_a_work_item(world, clock) -> None:
    with transaction(world.factory) as s:
        c = svc.start_session(s, organisation_id=world.org_a, member_id=world.members_a["a0"],
                              now=clock.now(), expected_end_at=clock.now() + dt.timedelta(hours=2),
                              grace_minutes=15, channel=Channel.web)
        items = s.scalars(select(WorkItem).where(WorkItem.kind == "deadline")).all()
        assert [(i.ref_id, i.due_at, i.status) for i in items] == [
            (c.id, clock.now() + dt.timedelta(hours=2, minutes=15), WorkStatus.due)]


def test_run_worker_stops_when_asked_and_gives_back_its_leases(world, clock, notifier) -> None:
    import threading as th

    from commonweal.checkins.worker import run_worker

    _safety_check(world, clock, n_extra=20)
    stop = th.Event()
    seen = []

    class StopAfterFirst:
        def send(self, message):  # type: ignore[no-untyped-def]
            seen.append(message.key)
            stop.set()  # SIGTERM arrives while the first message is being sent
            return notifier.send(message)

    total = run_worker(world.factory, StopAfterFirst(), clock, stop, config=CONFIG)
    assert total.sent == 1 and len(seen) == 1
    with transaction(world.factory) as s:
        states = Counter(s.scalars(select(OutboxMessage.status)).all())
    assert states == {OutboxStatus.sent: 1, OutboxStatus.pending: 22}  # none left leased
    drain(world.factory, notifier, clock)  # another worker sends the rest at once
    assert len(notifier.sent) == 23


def test_two_workers_meeting_a_new_rate_bucket(fresh_pg_url) -> None:
    """Both workers find no bucket and insert one at the same moment: one insert wins, the other
    re-reads it; neither fails and together they never take more than the burst."""
    from commonweal.checkins.queue import take_tokens
    from commonweal.registry import service as reg

    engine = make_engine(fresh_pg_url)
    try:
        factory = make_session_factory(engine)
        with transaction(factory) as s:
            org_id = reg.create_organisation(s, name="bucket race").id
        now = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
        for round_no in range(5):
            barrier = threading.Barrier(2)
            granted: list[int] = []
            errors: list[BaseException] = []

            def take(name: str = f"sms{round_no}", barrier: threading.Barrier = barrier,
                     granted: list[int] = granted, errors: list[BaseException] = errors) -> None:
                try:
                    with transaction(factory) as s:
                        barrier.wait(timeout=10)
                        granted.append(take_tokens(s, organisation_id=org_id, name=name, wanted=3,
                                                   rate_per_second=0, burst=4, now=now))
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=take) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
            assert sorted(granted) == [1, 3]  # 4 tokens in all, never more
    finally:
        engine.dispose()
