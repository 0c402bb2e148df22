"""The registry API: tenancy on every route, sensitive fields by role with audit, clean errors."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from commonweal.auth.models import AuditEvent
from commonweal.db.engine import transaction
from commonweal.registry.models import Asset, Group, Member, Tie
from tests.helpers import login, make_client


def iter_routes(routes):
    """Every APIRoute of the app, through included routers (FastAPI 0.16x nests them)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        inner = getattr(r, "original_router", None) or getattr(r, "routes", None)
        if inner is not None and not isinstance(r, APIRoute):
            yield from iter_routes(getattr(inner, "routes", inner))


def _ids_of_org_a(world):
    with transaction(world.factory) as s:
        from commonweal.registry import service as reg
        from commonweal.registry.schemas import AssetCreate, GroupCreate

        g = reg.create_group(
            s,
            organisation_id=world.org_a,
            community_id=world.community_a,
            data=GroupCreate(external_id="g1", name="Walkers A", kind="affinity"),
        )
        reg.add_membership(
            s, organisation_id=world.org_a, group_id=g.id, member_id=world.members_a["a0"]
        )
        a = reg.create_asset(
            s,
            organisation_id=world.org_a,
            community_id=world.community_a,
            data=AssetCreate(
                external_id="x1", name="Hall A", tangible=True, kind="facility", notes="SECRET-NOTE"
            ),
        )
        tie = s.scalar(select(Tie.id).where(Tie.organisation_id == world.org_a))
        return {
            "org_id": world.org_a,
            "community_id": world.community_a,
            "member_id": world.members_a["a0"],
            "group_id": g.id,
            "asset_id": a.id,
            "tie_id": tie,
        }


BODIES = {
    "POST": {
        "name": "X",
        "external_id": "e9",
        "display_name": "X",
        "kind": "friend",
        "from_member_id": 1,
        "to_member_id": 2,
        "member_id": 1,
        "tangible": True,
        "purpose": "contact",
        "granted": True,
        "email": "x@example.org",
        "role": "admin",
    },
    "PATCH": {"display_name": "Hijacked", "name": "Hijacked"},
}
LEAKS = (
    "Ada Okafor A",
    "Bea Lindqvist A",
    "a0@example.org",
    "SECRET-NOTE",
    "Walkers A",
    "Hall A",
    "Riverside A",
)


def test_every_route_refuses_another_organisation(world) -> None:
    client = make_client(world.factory)
    ids = _ids_of_org_a(world)
    login(client, *world.users["admin_b"])  # full rights, but in organisation B
    routes = [r for r in iter_routes(client.app.routes) if "{" in r.path]
    checked = 0
    for route in routes:
        params = set(re.findall(r"{(\w+)}", route.path))
        assert "org_id" in params, f"{route.path} has ids but no org scope"
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            url = route.path
            for p in params:
                value = ids.get(p, {"entity": "members", "name": "members.csv"}.get(p, "1"))
                url = url.replace("{" + p + "}", str(value))
            kwargs = {}
            if method in BODIES:
                kwargs["json"] = BODIES[method]
            if url.endswith("/import/members"):
                kwargs = {"files": {"file": ("m.csv", b"external_id,display_name\nz,Z\n")}}
            r = client.request(method, url, **kwargs)
            assert r.status_code in (403, 404), (method, url, r.status_code, r.text[:200])
            assert not any(leak in r.text for leak in LEAKS), (method, url)
            checked += 1
    assert checked >= 40  # the number of (route, method) pairs is reported in the closing note
    print(f"cross-tenant check: {checked} route/method pairs")
    with transaction(world.factory) as s:  # nothing of A was changed
        assert (
            s.scalar(select(Member.display_name).where(Member.id == ids["member_id"]))
            == "Ada Okafor A"
        )
        assert s.scalar(select(func.count()).select_from(Group)) == 1
        assert s.scalar(select(func.count()).select_from(Asset)) == 1


def test_sensitive_fields_by_role_and_audited(world) -> None:
    client = make_client(world.factory)
    mid = world.members_a["a0"]
    login(client, *world.users["volunteer_a"])
    r = client.get(f"/api/v1/orgs/{world.org_a}/members/{mid}")
    assert r.status_code == 200
    body = r.json()
    assert body["phone"] is None and body["email"] is None and body["notes"] is None
    assert body["lat"] is None and body["approx_lat"] == 51.5
    assert "SECRET-NOTE" not in r.text
    with transaction(world.factory) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "read_sensitive")
            )
            == 0
        )
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    r = client.get(f"/api/v1/orgs/{world.org_a}/members/{mid}")
    assert r.json()["email"] == "a0@example.org"
    with transaction(world.factory) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "read_sensitive")).one()
        assert ev.entity_ids == [mid] and "email" in ev.fields
        assert "a0@example.org" not in str(ev.fields) + str(ev.detail)
    # member role cannot list members at all
    client = make_client(world.factory)
    login(client, *world.users["member_a"])
    r = client.get(f"/api/v1/orgs/{world.org_a}/communities/{world.community_a}/members")
    assert r.status_code == 403


def test_crud_pagination_filters_and_errors(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    base = f"/api/v1/orgs/{world.org_a}"
    r = client.get(f"{base}/communities/{world.community_a}/members", params={"limit": 2})
    assert r.json()["total"] == 3 and len(r.json()["items"]) == 2
    r = client.get(f"{base}/communities/{world.community_a}/members", params={"q": "bea"})
    assert [m["display_name"] for m in r.json()["items"]] == ["Bea Lindqvist A"]
    r = client.get(f"{base}/communities/{world.community_a}/members", params={"lives_alone": True})
    assert [m["external_id"] for m in r.json()["items"]] == ["a2"]
    # ties both ways
    r = client.get(f"{base}/members/{world.members_a['a0']}/ties")
    assert r.json()["total"] == 2
    r = client.get(f"{base}/members/{world.members_a['a0']}/ties", params={"direction": "in"})
    assert [t["from_name"] for t in r.json()["items"]] == ["Cai Ramos A"]
    # invalid input: 422 with details, never 500
    r = client.post(
        f"{base}/communities/{world.community_a}/members",
        json={"external_id": "", "display_name": "Z", "lat": 200},
    )
    assert r.status_code == 422 and {p["field"] for p in r.json()["problems"]} >= {
        "body.external_id",
        "body.lat",
    }
    r = client.post(
        f"{base}/ties",
        json={
            "from_member_id": world.members_a["a0"],
            "to_member_id": world.members_a["a1"],
            "kind": "friend",
        },
    )
    assert r.status_code == 409  # one tie per (pair, kind)
    r = client.get(f"{base}/communities/{world.community_a}/members", params={"limit": 10**6})
    assert r.status_code == 422
    r = client.post(
        f"{base}/communities/{world.community_a}/import/members",
        files={"file": ("bad.csv", b"external_id,display_name,birth_year\nq,Q,old\n")},
    )
    assert r.status_code == 422
    assert r.json()["problems"] == [
        {
            "file": "bad.csv",
            "row": 2,
            "field": "birth_year",
            "message": "expected a whole number, got 'old'",
        }
    ]


def test_erasure_is_complete(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["admin_a"])
    mid = world.members_a["a0"]
    r = client.get(f"/api/v1/orgs/{world.org_a}/members/{mid}/export")
    assert r.status_code == 200 and r.json()["member"]["email"] == "a0@example.org"
    r = client.delete(f"/api/v1/orgs/{world.org_a}/members/{mid}")
    assert r.status_code == 200 and r.json()["removed"]["ties"] == 2
    with transaction(world.factory) as s:
        assert s.get(Member, mid) is None
        assert (
            s.scalar(
                select(func.count())
                .select_from(Tie)
                .where((Tie.from_member_id == mid) | (Tie.to_member_id == mid))
            )
            == 0
        )
    # coordinators may not erase
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    r = client.delete(f"/api/v1/orgs/{world.org_a}/members/{world.members_a['a1']}")
    assert r.status_code == 403


def test_cookie_changes_need_csrf_and_tokens_work(world) -> None:
    client = make_client(world.factory)
    login(client, *world.users["coordinator_a"])
    del client.headers["X-CSRF-Token"]
    r = client.post(f"/api/v1/orgs/{world.org_a}/communities", json={"name": "New"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    client.headers["X-CSRF-Token"] = "wrong"
    assert (
        client.post(f"/api/v1/orgs/{world.org_a}/communities", json={"name": "New"}).status_code
        == 403
    )
    token_client = make_client(world.factory)
    login(token_client, *world.users["coordinator_a"])
    token = token_client.post("/api/v1/auth/tokens", json={"name": "script"}).json()["token"]
    bare = make_client(world.factory)
    assert bare.get("/api/v1/orgs").status_code == 401
    r = bare.post(
        f"/api/v1/orgs/{world.org_a}/communities",
        json={"name": "New"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201
    assert bare.get("/api/v1/orgs", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_bad_login(world, password) -> None:
    client = make_client(world.factory)
    r = client.post(
        "/api/v1/auth/login", json={"email": "admin.a@example.org", "password": password}
    )
    assert r.status_code == 401
