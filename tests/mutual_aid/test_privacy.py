"""A volunteer who is not matched to a need cannot obtain its address, contact or exact location
by ANY route of the app (API and pages); the matched volunteer can, and that reveal is audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from commonweal.auth.models import AuditEvent
from commonweal.db.engine import transaction
from tests.helpers import login, make_client
from tests.web.test_api import iter_routes

# exact values of two needs; the public view rounds coordinates to 0.01 degree (51.52, -0.13)
SECRETS = {
    "x": {
        "address": "17 Quillfeather Lane",
        "contact": "+44 7700 900123",
        "lat": 51.523456,
        "lon": -0.127891,
        "private_notes": "KEYSAFE-4321",
    },
    "y": {
        "address": "9 Hollowmere Court",
        "contact": "ygrocer@example.org",
        "lat": 51.518765,
        "lon": -0.131234,
        "private_notes": "DOGS-BARK-5678",
    },
}


def _leaks(text: str) -> list[str]:
    found = []
    for need in SECRETS.values():
        for value in need.values():
            if str(value) in text:
                found.append(str(value))
    return found


def _setup(client, world):
    """Need X open (dispatcher-assisted), need Y matched to volunteer2 through a suggestion."""
    base = f"/api/v1/orgs/{world.org_a}"
    c = world.community_a
    login(client, *world.users["coordinator_a"])
    r = client.patch(
        f"{base}/communities/{c}/aid/settings", json={"moderation_mode": "dispatcher_assisted"}
    )
    assert r.status_code == 200, r.text
    needs = {}
    for key, cat in (("x", "transport"), ("y", "groceries")):
        r = client.post(
            f"{base}/communities/{c}/aid/needs",
            json={
                "category": cat,
                "description": f"help {key}",
                "urgency": 3,
                "area": "Riverside north",
                **SECRETS[key],
            },
        )
        assert r.status_code == 201, r.text
        needs[key] = r.json()["id"]
    r = client.post(
        f"{base}/communities/{c}/aid/offers",
        json={
            "categories": ["groceries"],
            "lat": 51.519,
            "lon": -0.13,
            "max_distance_km": 5,
            "user_id": world.user_ids["volunteer2_a"],
        },
    )
    assert r.status_code == 201, r.text
    offer = r.json()["id"]
    r = client.post(f"{base}/communities/{c}/aid/match-runs")
    assert r.status_code == 201, r.text
    run = r.json()
    (sugg,) = [s for s in run["suggestions"] if s["need_id"] == needs["y"]]
    assert sugg["reasons"], "every suggestion carries its reasons"
    r = client.post(f"{base}/aid/suggestions/{sugg['id']}/accept")
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    r = client.post(
        f"{base}/crisis/reports",
        json={"title": "Flooded underpass", "lat": 51.5, "lon": -0.1, "category": "shelter"},
    )
    report = r.json()["id"]
    r = client.post(f"{base}/ledger/accounts", json={"member_id": world.members_a["a0"]})
    account = r.json()["id"]
    return needs, {
        "offer_id": offer,
        "run_id": run["id"],
        "suggestion_id": sugg["id"],
        "report_id": report,
        "account_id": account,
        "claim_id": 1,
        "takeover_id": 1,
    }


def test_unmatched_volunteer_gets_no_private_detail_by_any_route(aid_world) -> None:
    world = aid_world
    client = make_client(world.factory)
    needs, ids = _setup(client, world)
    walker = make_client(world.factory)
    login(walker, *world.users["volunteer_a"])  # same organisation, matched to nothing
    # every route except logging out (which would turn the rest of the walk into 401s)
    routes = [r for r in iter_routes(walker.app.routes) if "logout" not in r.path]
    checked = 0
    statuses: dict[int, int] = {}
    for need_key in ("x", "y"):
        values = {
            "org_id": world.org_a,
            "community_id": world.community_a,
            "need_id": needs[need_key],
            "member_id": world.members_a["a0"],
            **ids,
        }
        for route in routes:
            params = set(re.findall(r"{(\w+)}", route.path))
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                url = route.path
                for p in params:
                    url = url.replace("{" + p + "}", str(values.get(p, 1)))
                kwargs = {}
                if method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {
                        "approve": True,
                        "status": "needs_follow_up",
                        "kind": "note",
                        "text": "hello",
                        "duration_s": 60,
                        "need_id": needs[need_key],
                        "offer_id": ids["offer_id"],
                        "message": "may I?",
                    }
                r = walker.request(method, url, **kwargs)
                assert r.status_code < 500, (method, url, r.status_code, r.text[:300])
                leaked = _leaks(r.text)
                assert not leaked, (method, url, leaked)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                checked += 1
    n_pairs = checked // 2
    print(
        f"privacy walk: {n_pairs} route/method pairs x 2 needs = {checked} requests; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    assert n_pairs >= 60
    assert statuses.get(401, 0) == 0  # the walker stayed logged in: every answer was judged
    assert statuses.get(200, 0) >= 20  # and many routes did answer with data

    # the matched volunteer sees need Y exactly, and that read is audited (names, not values)
    matched = make_client(world.factory)
    login(matched, *world.users["volunteer2_a"])
    r = matched.get(f"/api/v1/orgs/{world.org_a}/aid/needs/{needs['y']}")
    body = r.json()
    assert body["revealed"] is True
    assert body["address"] == SECRETS["y"]["address"]
    assert body["contact"] == SECRETS["y"]["contact"]
    assert (body["lat"], body["lon"]) == (SECRETS["y"]["lat"], SECRETS["y"]["lon"])
    # ... but still not need X
    r = matched.get(f"/api/v1/orgs/{world.org_a}/aid/needs/{needs['x']}")
    assert r.status_code == 200 and not _leaks(r.text)
    with transaction(world.factory) as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "read_sensitive",
                AuditEvent.entity == "aid_need",
                AuditEvent.user_id == world.user_ids["volunteer2_a"],
            )
        ).all()
        assert [e.entity_ids for e in events] == [[needs["y"]]]
        assert events[0].detail == "matched"
        assert set(events[0].fields) == {"address", "contact", "lat", "lon", "private_notes"}
        assert not _leaks(str([(e.fields, e.detail) for e in events]))
        # the walker's reads were never audited as reveals
        assert not s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "read_sensitive",
                AuditEvent.user_id == world.user_ids["volunteer_a"],
            )
        ).all()
