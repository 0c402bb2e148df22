"""The HTML pages: log in through the form, every page renders what it should for each role, search
as you type returns a partial, sensitive fields only for roles that may see them (and audited),
nothing of one organisation for a user of another, safe redirects after login."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from commonweal.auth import service as auth_service
from commonweal.auth.models import AuditEvent, Role
from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.models import Base
from commonweal.registry import service as reg
from commonweal.registry.schemas import AssetCreate, GroupCreate, MemberCreate
from commonweal.registry.vocab import ConsentPurpose
from commonweal.web.pages_common import PAGE_SIZE, safe_next
from tests.helpers import PASSWORD, build_world, make_client

EXTRA = 60  # members beyond the three of the shared world, so the list has two pages


@pytest.fixture(scope="module")
def world():
    # argon2 at its production cost takes ~0.6 s per hash on the shared CI box; the pages do not
    # depend on the cost, so the tests hash cheaply (the stored hash carries its own parameters).
    mp = pytest.MonkeyPatch()
    mp.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    w = build_world(factory)
    with transaction(factory) as s:
        org, com = w.org_a, w.community_a
        g = reg.create_group(
            s,
            organisation_id=org,
            community_id=com,
            data=GroupCreate(
                external_id="g1", name="Walkers A", kind="affinity", description="Tuesday walks"
            ),
        )
        reg.add_membership(
            s, organisation_id=org, group_id=g.id, member_id=w.members_a["a0"], role="lead"
        )
        reg.add_membership(s, organisation_id=org, group_id=g.id, member_id=w.members_a["a1"])
        reg.create_asset(
            s,
            organisation_id=org,
            community_id=com,
            data=AssetCreate(
                external_id="x1",
                name="Hall A",
                tangible=True,
                kind="facility",
                capacity=80,
                steward_member_id=w.members_a["a1"],
                notes="SECRET-NOTE",
            ),
        )
        reg.record_consent(
            s,
            organisation_id=org,
            member_id=w.members_a["a0"],
            purpose=ConsentPurpose.contact,
            granted=True,
            by_user_id=None,
        )
        for i in range(EXTRA):
            reg.create_member(
                s,
                organisation_id=org,
                community_id=com,
                data=MemberCreate(external_id=f"z{i:02d}", display_name=f"Zed {i:02d}"),
            )
        # one user with roles in both organisations (the switcher), one with none
        multi = auth_service.create_user(
            s, email="multi@example.org", display_name="Multi", password=PASSWORD
        )
        auth_service.grant_role(s, user_id=multi.id, organisation_id=w.org_a, role=Role.volunteer)
        auth_service.grant_role(s, user_id=multi.id, organisation_id=w.org_b, role=Role.admin)
        auth_service.create_user(
            s, email="lonely@example.org", display_name="Lonely", password=PASSWORD
        )
        # an organisation that has no community yet
        empty = reg.create_organisation(s, name="Empty Org")
        solo = auth_service.create_user(
            s, email="solo@example.org", display_name="Solo", password=PASSWORD
        )
        auth_service.grant_role(s, user_id=solo.id, organisation_id=empty.id, role=Role.admin)
        w.group_a, w.org_empty = g.id, empty.id
    # one app for the module: a new app pays FastAPI's set-up on its first request (~0.8 s here)
    w.app = make_client(factory).app
    yield w
    mp.undo()
    engine.dispose()


def form_login(client, email, password=PASSWORD, next="/"):
    page = client.get("/login")
    assert page.status_code == 200
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next, "login_token": token},
        follow_redirects=False,
    )


_logged_in: dict[tuple[int, str], object] = {}


def browser(world, who=None, *, fresh=False):
    """A client that asks for HTML as a browser does, logged in as ``who`` (a world user key or an
    email). Logged-in clients are reused within the module unless ``fresh`` (logging in costs)."""
    key = (id(world), who)
    if who is not None and not fresh and key in _logged_in:
        return _logged_in[key]
    client = TestClient(world.app, raise_server_exceptions=False)
    client.headers["accept"] = "text/html"
    if who is not None:
        email = world.users[who][0] if who in world.users else who
        r = form_login(client, email)
        assert r.status_code == 303, r.text
        if not fresh:
            _logged_in[key] = client
    return client


def urls_of_org_a(world):
    o, c, m = world.org_a, world.community_a, world.members_a["a0"]
    return [
        f"/o/{o}",
        f"/o/{o}/c/{c}",
        f"/o/{o}/c/{c}/members",
        f"/o/{o}/c/{c}/members?q=ada",
        f"/o/{o}/members/{m}",
        f"/o/{o}/c/{c}/groups",
        f"/o/{o}/groups/{world.group_a}",
        f"/o/{o}/c/{c}/assets",
    ]


def audit_rows(world, member_id):
    with transaction(world.factory) as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "read_sensitive")).all()
        return [r for r in rows if member_id in (r.entity_ids or [])]


# --- logging in and out ---------------------------------------------------------------------
def test_login_page_and_wrong_password(world) -> None:
    client = browser(world)
    r = client.get("/login")
    assert 'name="email"' in r.text and 'name="password"' in r.text
    assert "create-admin" not in r.text  # users exist, so no first-run hint
    r = form_login(client, world.users["volunteer_a"][0], password="not the password")
    assert r.status_code == 401 and "Wrong email or password" in r.text
    assert "cw_session" not in client.cookies


def test_login_form_needs_its_token(world) -> None:
    client = browser(world)
    r = client.post(
        "/login",
        data={"email": world.users["volunteer_a"][0], "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "cw_session" not in client.cookies


OFF_SITE = [
    "//evil.example",
    "//evil.example/o/1",
    "http://evil.example/",
    "https://evil.example",
    "/\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
    "/\t/evil.example",
    "/\r\nSet-Cookie: x=1",
]


def test_login_never_redirects_off_site(world) -> None:
    for target in OFF_SITE:
        assert safe_next(target) == "/", target
    for target in ("//evil.example", "http://evil.example/", "/\\evil.example"):
        r = form_login(browser(world), world.users["volunteer_a"][0], next=target)
        assert r.status_code == 303 and r.headers["location"] == "/", target
    assert safe_next("/o/1/c/2/members?q=a%20b") == "/o/1/c/2/members?q=a%20b"


def test_login_redirects_to_local_next_and_start_page_picks_a_community(world) -> None:
    client = browser(world)
    wanted = f"/o/{world.org_a}/c/{world.community_a}/members?q=bea"
    r = form_login(client, world.users["volunteer_a"][0], next=wanted)
    assert r.status_code == 303 and r.headers["location"] == wanted
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == f"/o/{world.org_a}/c/{world.community_a}"
    # the error handler sends an anonymous page request to the login form with next=
    r = browser(world).get(f"/o/{world.org_a}/c/{world.community_a}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next=/o/{world.org_a}/c/{world.community_a}"
    login_page = browser(world).get("/login?next=//evil.example")
    assert 'name="next" value="/"' in login_page.text


def test_logout_needs_the_csrf_token_and_ends_the_session(world) -> None:
    client = browser(world, "volunteer_a", fresh=True)
    page = client.get(f"/o/{world.org_a}/c/{world.community_a}")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    assert f'name="csrf_token" value="{token}"' in page.text  # the logout form carries it
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert (
        client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code
        == 403
    )
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_user_without_organisation_gets_a_friendly_page(world) -> None:
    r = browser(world, "lonely@example.org").get("/")
    assert r.status_code == 200
    assert "No organisation yet" in r.text and "commonweal users create-admin" in r.text


def test_organisation_without_community_says_how_to_add_one(world) -> None:
    client = browser(world, "solo@example.org")
    r = client.get("/", follow_redirects=False)
    assert r.headers["location"] == f"/o/{world.org_empty}"
    r = client.get(r.headers["location"])
    assert r.status_code == 200 and "no community yet" in r.text
    assert "commonweal import members" in r.text


# --- pages ---------------------------------------------------------------------------------
def test_organisation_and_overview_pages(world) -> None:
    client = browser(world, "coordinator_a")
    r = client.get(f"/o/{world.org_a}")
    assert r.status_code == 200 and "Riverside A" in r.text
    assert f"{3 + EXTRA} members · 2 ties · 1 group · 1 asset" in r.text
    r = client.get(f"/o/{world.org_a}/c/{world.community_a}")
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", r.text))
    assert figures == {
        "Members": str(3 + EXTRA),
        "Ties": "2",
        "Groups": "1",
        "Assets": "1",
        "Living alone": "1",
    }
    assert "Newest changes" in r.text and "Zed 59" in r.text
    assert 'aria-current="page">Overview' in r.text


def test_member_list_pages_and_search_partial(world) -> None:
    client = browser(world, "volunteer_a")
    base = f"/o/{world.org_a}/c/{world.community_a}/members"
    r = client.get(base)
    assert r.status_code == 200 and "<html" in r.text and 'hx-get="' + base + '"' in r.text
    assert f"1–{PAGE_SIZE} of {3 + EXTRA} members" in r.text
    assert "Ada Okafor A" in r.text and "Zed 59" not in r.text  # sorted by name, page 1
    r = client.get(base + "?page=2")
    assert f"{PAGE_SIZE + 1}–{3 + EXTRA} of {3 + EXTRA}" in r.text and "Zed 59" in r.text
    partial = client.get(
        base + "?q=bea", headers={"HX-Request": "true", "HX-Target": "member-results"}
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "Bea Lindqvist A" in partial.text and "Ada Okafor A" not in partial.text
    assert "1–1 of 1 member" in partial.text
    assert "HX-Request" in partial.headers["vary"]
    # searching by external id, and a search that finds nobody
    assert "Zed 07" in client.get(base + "?q=z07").text
    assert "No member matches" in client.get(base + "?q=nobody-here").text
    # a history-restore request from htmx gets the whole page back
    full = client.get(
        base + "?q=bea", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in full.text


def test_member_page_shows_ties_both_ways_and_groups(world) -> None:
    client = browser(world, "volunteer_a")
    ada, bea, cai = (world.members_a[k] for k in ("a0", "a1", "a2"))
    r = client.get(f"/o/{world.org_a}/members/{ada}")
    assert r.status_code == 200
    turns_to = r.text.split('id="turns-to"')[1].split("</section>")[0]
    turned_to = r.text.split('id="turned-to-by"')[1].split("</section>")[0]
    # build_world: Ada turns to Bea (friend; emotional, practical; strength 4); Cai turns to Ada
    assert f'href="/o/{world.org_a}/members/{bea}">Bea Lindqvist A' in turns_to
    assert "friend" in turns_to and "emotional" in turns_to and 'aria-label="4 of 5"' in turns_to
    assert "Cai Ramos A" not in turns_to
    assert f'href="/o/{world.org_a}/members/{cai}">Cai Ramos A' in turned_to
    assert "neighbour" in turned_to and "Bea Lindqvist A" not in turned_to
    assert "Walkers A" in r.text and "lead" in r.text
    assert "contact: <strong>given</strong>" in r.text


def test_volunteer_sees_no_contact_details_and_nothing_is_audited(world) -> None:
    ada = world.members_a["a1"]
    before = len(audit_rows(world, ada))
    r = browser(world, "volunteer_a").get(f"/o/{world.org_a}/members/{ada}")
    assert r.status_code == 200 and "Bea Lindqvist A" in r.text
    for secret in ("a1@example.org", "+1-555-0111", "SECRET-NOTE"):
        assert secret not in r.text
    assert "does not show contact details" in r.text
    assert len(audit_rows(world, ada)) == before


def test_coordinator_sees_contact_details_and_the_read_is_audited(world) -> None:
    bea = world.members_a["a1"]
    before = audit_rows(world, bea)
    r = browser(world, "coordinator_a").get(f"/o/{world.org_a}/members/{bea}")
    assert "a1@example.org" in r.text and "+1-555-0111" in r.text and "SECRET-NOTE" in r.text
    rows = audit_rows(world, bea)
    assert len(rows) == len(before) + 1
    new = rows[-1]
    assert new.entity == "member" and new.entity_ids == [bea] and new.organisation_id == world.org_a
    assert sorted(new.fields) == ["email", "lat", "lon", "notes", "phone"]
    assert "SECRET-NOTE" not in json.dumps([new.fields, new.detail])  # names, never values


def test_member_role_sees_counts_but_no_names(world) -> None:
    client = browser(world, "member_a")
    o, c = world.org_a, world.community_a
    r = client.get(f"/o/{o}/c/{c}")
    assert r.status_code == 200 and "Newest changes" not in r.text and "Zed" not in r.text
    assert ">Members</a>" not in r.text  # no tab to a page the role cannot open
    assert client.get(f"/o/{o}/c/{c}/members").status_code == 403
    assert client.get(f"/o/{o}/members/{world.members_a['a0']}").status_code == 403
    g = client.get(f"/o/{o}/groups/{world.group_a}")
    assert g.status_code == 200 and "Ada Okafor A" not in g.text and ">2</span>" in g.text
    a = client.get(f"/o/{o}/c/{c}/assets")
    assert "Hall A" in a.text and "Bea Lindqvist A" not in a.text and "a member" in a.text


def test_groups_and_assets_pages(world) -> None:
    client = browser(world, "volunteer_a")
    o, c = world.org_a, world.community_a
    r = client.get(f"/o/{o}/c/{c}/groups")
    assert "Walkers A" in r.text and "Tuesday walks" in r.text and "affinity" in r.text
    r = client.get(f"/o/{o}/groups/{world.group_a}")
    assert "Ada Okafor A" in r.text and "Bea Lindqvist A" in r.text and "Cai Ramos A" not in r.text
    r = client.get(f"/o/{o}/c/{c}/assets")
    assert "Hall A" in r.text and "facility" in r.text and ">80<" in r.text
    assert f'href="/o/{o}/members/{world.members_a["a1"]}">Bea Lindqvist A' in r.text
    assert "SECRET-NOTE" not in r.text


def test_another_organisation_gets_404_everywhere_and_sees_nothing(world) -> None:
    client = browser(world, "admin_b")
    leaks = ("Ada Okafor A", "Bea Lindqvist A", "Riverside A", "Walkers A", "Hall A", "Org A")
    for url in urls_of_org_a(world):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert not any(leak in r.text for leak in leaks), url
    # B's own ids through A's organisation path, and A's ids through B's path, are refused too
    o_b = world.org_b
    for url in (
        f"/o/{o_b}/members/{world.members_a['a0']}",
        f"/o/{o_b}/c/{world.community_a}",
        f"/o/{o_b}/groups/{world.group_a}",
        f"/o/{o_b}/c/{world.community_a}/assets",
    ):
        assert client.get(url).status_code == 404, url


def test_switcher_lists_every_organisation_of_the_user(world) -> None:
    r = browser(world, "multi@example.org").get(f"/o/{world.org_b}/c/{world.community_b}")
    assert '<optgroup label="Org A (volunteer)">' in r.text
    assert '<optgroup label="Org B (admin)">' in r.text
    assert f'<option value="/o/{world.org_b}/c/{world.community_b}" selected>Riverside B' in r.text
    assert (
        browser(world).get("/go?to=//evil.example", follow_redirects=False).headers["location"]
        == "/"
    )
    assert (
        browser(world).get(f"/go?to=/o/{world.org_a}", follow_redirects=False).headers["location"]
        == f"/o/{world.org_a}"
    )


def test_pages_load_nothing_from_elsewhere_and_send_security_headers(world) -> None:
    client = browser(world, "coordinator_a")
    for url in urls_of_org_a(world):
        r = client.get(url)
        assert r.status_code == 200, url
        assert not re.search(r'(src|href|action)="(https?:)?//', r.text), url
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"
        assert "<script>" not in r.text and "style=" not in r.text  # CSP: nothing inline
    js = client.get("/static/vendor/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:2000]
    assert "X-CSRF-Token" in client.get("/static/app.js").text


def test_error_pages_are_html(world) -> None:
    r = browser(world, "coordinator_a").get(f"/o/{world.org_a}/members/999999")
    assert r.status_code == 404 and "<html" in r.text and "Error 404" in r.text


def test_pages_are_not_in_the_openapi_schema(world) -> None:
    from commonweal.web import pages_auth, pages_registry

    # (generating the whole OpenAPI document takes seconds; the flag is what puts a route in it)
    routes = [*pages_auth.router.routes, *pages_registry.router.routes]
    assert len(routes) >= 11
    assert all(not r.include_in_schema for r in routes)


def test_vendored_files_ship_inside_the_package() -> None:
    web = resources.files("commonweal.web")
    assert (web / "templates" / "base.html").is_file()
    manifest = json.loads((web / "static" / "vendor" / "MANIFEST.json").read_text())
    htmx = next(e for e in manifest if e["package"] == "htmx.org")
    assert htmx["version"].startswith("2.0.")  # pinned to 2.x (npm latest is 4.x)
    data = (web / "static" / "vendor" / htmx["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == htmx["sha256"]
    assert (web / "static" / "vendor" / "htmx.org.LICENSE.txt").is_file()
