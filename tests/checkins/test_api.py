"""The check-in API and pages through the ASGI app: roles, Idempotency-Key, single-use links,
duress, safety checks with live counts, CSV and PFIF 1.4 exports."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from sqlalchemy import select

from commonweal.checkins.models import Alert, CheckinPlan, IdempotencyRecord
from commonweal.db.engine import transaction
from tests.checkins.conftest import drain
from tests.helpers import login, make_client


def _client(world, clock, who="coordinator_a"):  # type: ignore[no-untyped-def]
    c = make_client(world.factory)
    c.app.state.clock = clock
    token = login(c, *world.users[who])
    return c, token


def _token(notifier, key_prefix: str) -> str:  # type: ignore[no-untyped-def]
    [m] = [m for m in notifier.sent if m.key.startswith(key_prefix)][-1:]
    found = re.search(r"\?t=([A-Za-z0-9_\-]+)", m.body)
    assert found, m.body
    return found.group(1)


def test_idempotency_key_on_plan_creation(world, clock) -> None:
    c, _ = _client(world, clock)
    url = f"/api/v1/orgs/{world.org_a}/checkin-plans"
    body = {"member_id": world.members_a["a0"], "window_start_minute": 540}
    r1 = c.post(url, json=body, headers={"Idempotency-Key": "abc"})
    r2 = c.post(url, json=body, headers={"Idempotency-Key": "abc"})
    assert r1.status_code == r2.status_code == 201 and r1.json() == r2.json()
    r3 = c.post(url, json={**body, "window_start_minute": 600}, headers={"Idempotency-Key": "abc"})
    assert r3.status_code == 422
    with transaction(world.factory) as s:
        assert len(s.scalars(select(CheckinPlan)).all()) == 1
        s.add(IdempotencyRecord(scope=s.scalar(select(IdempotencyRecord.scope)), key="busy",
                                request_hash="x" * 64, created_at=clock.now(),
                                in_flight_until=clock.now() + dt.timedelta(seconds=30)))
    assert c.post(url, json=body, headers={"Idempotency-Key": "busy"}).status_code in (409, 422)
    # same body as the in-flight one -> 409
    from commonweal.checkins.idempotency import request_hash
    from commonweal.checkins.schemas import PlanCreate

    with transaction(world.factory) as s:
        rec = s.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "busy"))
        rec.request_hash = request_hash("POST", url, PlanCreate(**body).model_dump(mode="json"))
    assert c.post(url, json=body, headers={"Idempotency-Key": "busy"}).status_code == 409
    # an error the caller caused is stored and replayed too
    bad = {"member_id": 999999}
    e1 = c.post(url, json=bad, headers={"Idempotency-Key": "bad"})
    e2 = c.post(url, json=bad, headers={"Idempotency-Key": "bad"})
    assert e1.status_code == e2.status_code == 404


def test_roles(world, clock) -> None:
    c, _ = _client(world, clock, "volunteer_a")
    assert c.post(f"/api/v1/orgs/{world.org_a}/checkin-plans",
                  json={"member_id": world.members_a["a0"]}).status_code == 403
    assert c.get(f"/api/v1/orgs/{world.org_a}/alerts").status_code == 200
    m, _ = _client(world, clock, "member_a")
    assert m.get(f"/api/v1/orgs/{world.org_a}/alerts").status_code == 403
    b, _ = _client(world, clock, "admin_b")
    assert b.get(f"/api/v1/orgs/{world.org_a}/alerts").status_code == 404


def test_link_answer_is_single_use_and_duress_looks_like_ok(world, clock, notifier) -> None:
    c, _ = _client(world, clock)
    r = c.post(f"/api/v1/orgs/{world.org_a}/checkin-plans", json={
        "member_id": world.members_a["a0"], "window_start_minute": 540, "duress_code": "7788"})
    assert r.status_code == 201
    clock.set(dt.datetime(2026, 11, 2, 9, 1, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    token = _token(notifier, "prompt:")
    anon = make_client(world.factory)
    anon.app.state.clock = clock
    page = anon.get(f"/respond?t={token}")
    assert page.status_code == 200 and "I am OK" in page.text
    assert anon.get(f"/respond?t={token}").status_code == 200  # GET changes nothing
    body = {"token": token, "answer": "ok", "code": "7788"}
    ok = anon.post("/api/v1/respond", json=body, headers={"Idempotency-Key": "ans-1"})
    assert ok.status_code == 200 and ok.json() == {"recorded": True, "answer": "ok"}
    # a retry with the same key gets the same answer (the link is used up by then)
    replay = anon.post("/api/v1/respond", json=body, headers={"Idempotency-Key": "ans-1"})
    assert replay.status_code == 200 and replay.json() == ok.json()
    other = anon.post("/api/v1/respond", json={**body, "answer": "uncomfortable"},
                      headers={"Idempotency-Key": "ans-1"})
    assert other.status_code == 422
    again = anon.post("/api/v1/respond", json={"token": token, "answer": "ok"})
    assert again.status_code == 409
    with transaction(world.factory) as s:
        [a] = s.scalars(select(Alert)).all()
        assert a.reason == "duress"
    # the pages never show "duress"
    assert "duress" not in c.get(f"/o/{world.org_a}/checkins/members/{world.members_a['a0']}").text


def test_lone_worker_session_api(world, clock) -> None:
    c, _ = _client(world, clock, "volunteer_a")
    base = f"/api/v1/orgs/{world.org_a}"
    end = (clock.now() + dt.timedelta(hours=1)).isoformat()
    r = c.post(f"{base}/lone-worker-sessions", json={"member_id": world.members_a["a1"],
                                                     "expected_end_at": end, "grace_minutes": 5})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    later = (clock.now() + dt.timedelta(hours=2)).isoformat()
    r = c.post(f"{base}/checkins/{cid}/extend", json={"expected_end_at": later})
    assert r.status_code == 200 and r.json()["due_at"].startswith("2026-11-02T08:05")
    r = c.post(f"{base}/checkins/{cid}/end")
    assert r.json()["status"] == "answered" and r.json()["answer"] == "ok"
    assert c.post(f"{base}/checkins/{cid}/extend", json={"expected_end_at": later}).status_code \
        == 409


def test_safety_check_counts_links_exports_and_pages(world, clock, notifier) -> None:
    c, csrf = _client(world, clock)
    base = f"/api/v1/orgs/{world.org_a}"
    # members a0, a1, a2 live at 51.50, 51.51, 51.52 N; a 1.5 km circle at 51.50 takes a0 and a1
    r = c.post(f"{base}/safety-checks", json={
        "community_id": world.community_a, "title": "Flood", "message": "The river is high.",
        "selector": {"kind": "radius", "lat": 51.5, "lon": -0.12, "radius_km": 1.5}},
        headers={"Idempotency-Key": "flood-1"})
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["counts"] == {"no_answer": 2, "safe": 0, "need_help": 0, "total": 2}
    drain(world.factory, notifier, clock)
    sms = [m for m in notifier.sent if m.key.startswith("safety:") and m.channel == "sms"]
    assert {m.recipient for m in sms} == {"+1-555-0101", "+1-555-0111"}
    token = re.search(r"\?t=(\S+)", sms[0].body).group(1)  # type: ignore[union-attr]
    anon = make_client(world.factory)
    anon.app.state.clock = clock
    assert anon.get(f"/safe?t={token}").status_code == 200
    assert anon.post("/safe", data={"t": token, "status": "safe"}).status_code == 200
    assert anon.post("/safe", data={"t": token, "status": "safe"}).status_code == 409
    other = sms[1].recipient
    other_id = world.members_a["a0"] if other == "+1-555-0101" else world.members_a["a1"]
    r = c.post(f"{base}/safety-checks/{check['id']}/marks",
               json={"member_id": other_id, "status": "need_help", "help_category": "medical"})
    assert r.status_code == 200
    counts = c.get(f"{base}/safety-checks/{check['id']}").json()["counts"]
    assert counts == {"no_answer": 0, "safe": 1, "need_help": 1, "total": 2}
    drain(world.factory, notifier, clock)  # need-help goes straight to the coordinators
    with transaction(world.factory) as s:
        [a] = s.scalars(select(Alert)).all()
        assert a.reason == "safety_need_help" and a.current_tier == 2
    csv_text = c.get(f"{base}/safety-checks/{check['id']}/export.csv").text
    assert csv_text.splitlines()[0].startswith("member_id,external_id,display_name,status")
    assert len(csv_text.splitlines()) == 3
    xml = c.get(f"{base}/safety-checks/{check['id']}/export.pfif").text
    ns = {"pfif": "http://zesty.ca/pfif/1.4"}
    root = ET.fromstring(xml)
    statuses = sorted(n.text or "" for n in root.findall("pfif:person/pfif:note/pfif:status", ns))
    assert statuses == ["believed_alive", "is_note_author"]
    # pages: the board, the live counts partial, today's alerts with an acknowledge button
    board = c.get(f"/o/{world.org_a}/checkins/safety/{check['id']}")
    assert board.status_code == 200 and 'hx-trigger="every 3s"' in board.text
    part = c.get(f"/o/{world.org_a}/checkins/safety/{check['id']}/counts",
                 headers={"HX-Request": "true"})
    assert 'data-count="safe">1<' in part.text
    today = c.get(f"/o/{world.org_a}/checkins")
    assert today.status_code == 200 and f'data-ack="{a.id}"' in today.text
    r = c.post(f"/o/{world.org_a}/checkins/alerts/{a.id}/acknowledge",
               data={"csrf_token": csrf}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "acknowledged" in r.text
    with transaction(world.factory) as s:
        assert s.get(Alert, a.id).status == "acknowledged"  # type: ignore[union-attr]


def test_alert_trail_and_policy(world, clock, notifier) -> None:
    c, _ = _client(world, clock)
    base = f"/api/v1/orgs/{world.org_a}"
    r = c.put(f"{base}/escalation-policy", json={"tiers": [
        {"who": "coordinators", "channels": ["email"], "timeout_minutes": 5}]})
    assert r.status_code == 200, r.text
    assert c.put(f"{base}/escalation-policy", json={"tiers": []}).status_code == 422
    c.post(f"{base}/checkin-plans", json={"member_id": world.members_a["a2"],
                                          "window_start_minute": 540, "grace_minutes": 0})
    clock.set(dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC))
    drain(world.factory, notifier, clock)
    [alert] = c.get(f"{base}/alerts").json()
    detail = c.get(f"{base}/alerts/{alert['id']}").json()
    assert [e["kind"] for e in detail["trail"]] == ["created", "tier_notified"]
    r = c.post(f"{base}/alerts/{alert['id']}/resolve")
    assert r.json()["status"] == "resolved"
    assert c.get(f"{base}/alerts").json() == []
    stats = c.get(f"{base}/outbox/stats").json()
    assert stats["sent"] >= 1 and stats["suspected_duplicates"] == 0


def test_closing_a_safety_check_stops_reminders(world, clock) -> None:  # type: ignore[no-untyped-def]
    from commonweal.checkins import safety

    c, _ = _client(world, clock)
    base = f"/api/v1/orgs/{world.org_a}"
    check = c.post(f"{base}/safety-checks", json={
        "community_id": world.community_a, "title": "Storm", "message": "Are you safe?",
        "selector": {"kind": "community"}}).json()
    r = c.post(f"{base}/safety-checks/{check['id']}/close")
    assert r.status_code == 200 and r.json()["closed"] is True
    assert c.post(f"{base}/safety-checks/{check['id']}/close").status_code == 409
    with transaction(world.factory) as s:
        assert safety.send_reminders(s, check_id=check["id"], round_no=1,
                                     now=clock.now()) == "closed"
