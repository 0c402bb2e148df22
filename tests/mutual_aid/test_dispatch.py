"""Dispatching through the API: a matching run stores suggestions with reasons, beats the greedy
dispatcher where greedy is short-sighted, and a dispatcher can accept, reject or override."""

from __future__ import annotations

from tests.helpers import login, make_client


def _post(client, url, **kw):
    r = client.post(url, **kw)
    assert r.status_code in (200, 201), (url, r.status_code, r.text)
    return r.json()


def test_run_accept_override_and_greedy_comparison(aid_world) -> None:
    w = aid_world
    client = make_client(w.factory)
    login(client, *w.users["coordinator_a"])
    base, c = f"/api/v1/orgs/{w.org_a}", w.community_a
    v1, v2 = w.user_ids["volunteer_a"], w.user_ids["volunteer2_a"]
    # Need A (urgent) is near both offers; need B is reachable only from offer 1, which is also
    # A's nearest. Greedy serves A first with offer 1 and leaves B unmet; the optimum meets both.
    a = _post(
        client,
        f"{base}/communities/{c}/aid/needs",
        json={"category": "groceries", "urgency": 4, "lat": 51.5000, "lon": -0.1200},
    )
    b = _post(
        client,
        f"{base}/communities/{c}/aid/needs",
        json={"category": "groceries", "urgency": 2, "lat": 51.5000, "lon": -0.1500},
    )
    nowhere = _post(
        client, f"{base}/communities/{c}/aid/needs", json={"category": "repairs", "urgency": 2}
    )  # no location: not matchable
    o1 = _post(
        client,
        f"{base}/communities/{c}/aid/offers",
        json={
            "categories": ["groceries"],
            "lat": 51.5000,
            "lon": -0.1300,
            "max_distance_km": 3,
            "user_id": v1,
        },
    )
    o2 = _post(
        client,
        f"{base}/communities/{c}/aid/offers",
        json={
            "categories": ["groceries", "transport"],
            "lat": 51.5000,
            "lon": -0.1050,
            "max_distance_km": 2,
            "user_id": v2,
        },
    )
    run = _post(client, f"{base}/communities/{c}/aid/match-runs")
    assert run["method"] in ("min-cost-flow", "lp-highs")
    opt, greedy = run["summary"]["optimal"], run["summary"]["greedy"]
    assert (opt["needs_met"], greedy["needs_met"]) == (2, 1)
    assert run["summary"]["needs_without_location"] == 1
    pairs = {(s["need_id"], s["offer_id"]) for s in run["suggestions"]}
    assert pairs == {(a["id"], o2["id"]), (b["id"], o1["id"])}
    for s in run["suggestions"]:
        assert any("km away" in r for r in s["reasons"]) and s["components"]
    assert nowhere["id"] not in {s["need_id"] for s in run["suggestions"]}
    sa = next(s for s in run["suggestions"] if s["need_id"] == a["id"])
    sb = next(s for s in run["suggestions"] if s["need_id"] == b["id"])
    # a volunteer may not accept suggestions
    vol = make_client(w.factory)
    login(vol, *w.users["volunteer_a"])
    assert vol.post(f"{base}/aid/suggestions/{sa['id']}/accept").status_code == 403
    claim = _post(client, f"{base}/aid/suggestions/{sa['id']}/accept")
    assert claim["state"] == "active" and claim["volunteer_user_id"] == v2
    assert client.post(f"{base}/aid/suggestions/{sa['id']}/accept").status_code == 409
    # the dispatcher overrides B's suggestion: give B to offer 2 instead (breaks its 2 km
    # limit; the dispatcher knows best) -- but offer 2's volunteer already holds A, which is fine
    out = _post(
        client,
        f"{base}/aid/match-runs/{run['id']}/override",
        json={"need_id": b["id"], "offer_id": o2["id"]},
    )
    assert out["suggestion"]["state"] == "overridden"
    assert "set by dispatcher" in out["suggestion"]["reasons"]
    assert out["claim"]["volunteer_user_id"] == v2
    again = client.get(f"{base}/aid/match-runs/{run['id']}").json()
    states = {(s["need_id"], s["offer_id"]): s["state"] for s in again["suggestions"]}
    assert states[(b["id"], o1["id"])] == "replaced" and sb["state"] == "suggested"
    # my claims for volunteer 2 show both needs with their details (revealed, audited)
    v2c = make_client(w.factory)
    login(v2c, *w.users["volunteer2_a"])
    mine = v2c.get(f"{base}/aid/my-claims").json()
    assert {m["need"]["id"] for m in mine} == {a["id"], b["id"]}
    assert all(m["need"]["revealed"] and m["need"]["lat"] is not None for m in mine)
    # the board no longer lists matched needs; a new run has nothing left to pair
    board = vol.get(f"{base}/communities/{c}/aid/needs").json()
    assert {n["id"] for n in board["items"]} == {nowhere["id"]}
    assert all(n["address"] is None and n["lat"] is None for n in board["items"])
    run2 = _post(client, f"{base}/communities/{c}/aid/match-runs")
    assert run2["suggestions"] == []


def test_requester_flow_and_roles(aid_world) -> None:
    w = aid_world
    base, c = f"/api/v1/orgs/{w.org_a}", w.community_a
    member = make_client(w.factory)
    login(member, *w.users["member_a"])
    n = _post(
        member,
        f"{base}/communities/{c}/aid/needs",
        json={
            "category": "Check-in calls",
            "description": "a weekly call",
            "urgency": "low",
            "address": "3 Ash Close",
            "contact": "01632 960000",
            "languages": ["es"],
            "recurrence": "weekly",
            "area": "Ash estate",
        },
    )
    assert (n["category"], n["urgency"], n["channel"], n["revealed"]) == (
        "check_in",
        1,
        "web",
        True,
    )
    assert [x["id"] for x in member.get(f"{base}/aid/my-requests").json()] == [n["id"]]
    # a member (aid:request only) cannot browse the board or see others' needs
    assert member.get(f"{base}/communities/{c}/aid/needs").status_code == 403
    # a researcher has no mutual-aid access at all
    res = make_client(w.factory)
    login(res, *w.users["researcher_a"])
    assert res.get(f"{base}/aid/needs/{n['id']}").status_code == 403
    # invalid input: 422 with the fields named
    r = member.post(
        f"{base}/communities/{c}/aid/needs",
        json={"category": "spaceships", "lat": 95, "urgency": 9},
    )
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} >= {"body.category", "body.urgency"}
    # the requester cancels their own need; a volunteer cannot
    vol = make_client(w.factory)
    login(vol, *w.users["volunteer_a"])
    assert (
        vol.post(f"{base}/aid/needs/{n['id']}/status", json={"status": "cancelled"}).status_code
        == 403
    )
    assert (
        _post(member, f"{base}/aid/needs/{n['id']}/status", json={"status": "cancelled"})["status"]
        == "cancelled"
    )
