"""One real browser run: Debian's Chromium driven by Playwright against uvicorn on 127.0.0.1.

Log in, search the member list (HTMX, with the CSRF header), open a member, see their ties both
ways. Every request that is not to this server is aborted and counted: the pages must need none,
and must log no console error. A screenshot goes to the test's tmp directory.
"""

from __future__ import annotations

import shutil

import pytest

from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.db.engine import transaction
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate, GroupCreate, MemberCreate, TieCreate
from tests.browser import browser_marks, offline_browser, served

EMAIL, PASSWORD = "coordinator@example.org", "correct horse battery"

pytestmark = browser_marks


def seed(factory) -> dict[str, int]:
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Riverside Mutual Aid")
        c = reg.create_community(
            s,
            organisation_id=org.id,
            data=CommunityCreate(
                name="Riverside", description="Streets between the river and the railway."
            ),
        )
        people = {}
        for ext, name, alone in [
            ("m1", "Ada Okafor", False),
            ("m2", "Bea Lindqvist", False),
            ("m3", "Cai Ramos", True),
            ("m4", "Dev Patel", None),
        ]:
            people[ext] = reg.create_member(
                s,
                organisation_id=org.id,
                community_id=c.id,
                data=MemberCreate(
                    external_id=ext,
                    display_name=name,
                    lives_alone=alone,
                    languages=["en"],
                    phone="+44 20 7946 0000",
                    household=f"h{ext}",
                ),
            ).id
        for a, b, kind, support, strength, both in [
            ("m1", "m2", "friend", ["emotional", "practical"], 4, True),
            ("m1", "m4", "kin", ["financial"], 5, False),
            ("m3", "m1", "neighbour", ["practical", "companionship"], 3, False),
        ]:
            reg.create_tie(
                s,
                organisation_id=org.id,
                data=TieCreate(
                    from_member_id=people[a],
                    to_member_id=people[b],
                    kind=kind,
                    support_types=support,
                    strength=strength,
                    reciprocal=both,
                ),
            )
        g = reg.create_group(
            s,
            organisation_id=org.id,
            community_id=c.id,
            data=GroupCreate(external_id="g1", name="Tuesday walkers", kind="affinity"),
        )
        reg.add_membership(s, organisation_id=org.id, group_id=g.id, member_id=people["m1"])
        user = auth_service.create_user(
            s, email=EMAIL, display_name="Cora Coordinator", password=PASSWORD
        )
        auth_service.grant_role(s, user_id=user.id, organisation_id=org.id, role=Role.coordinator)
        return {"org": org.id, "community": c.id, **people}


@pytest.fixture
def server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with served(tmp_path, monkeypatch, seed) as out:
        yield out


def test_log_in_open_a_member_and_see_their_ties(server, tmp_path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    base, ids = server
    htmx_headers: list[dict[str, str]] = []
    with offline_browser() as (context, blocked, errors):
        context.on("request", lambda r: htmx_headers.append(r.headers)
                   if r.headers.get("hx-request") == "true" else None)
        page = context.new_page()

        page.goto(base + "/")
        expect(page).to_have_url(base + "/login")  # not logged in yet
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{base}/o/{ids['org']}/c/{ids['community']}")
        expect(page.get_by_role("heading", name="Riverside", exact=True)).to_be_visible()

        page.get_by_role("link", name="Members").click()
        page.get_by_label("Search by name or id").press_sequentially("ada", delay=30)
        rows = page.locator("#member-results tbody tr")
        expect(rows).to_have_count(1)  # swapped in by HTMX, without a page load
        assert "/members?q=ada" in page.url  # hx-push-url keeps the search in the address
        csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
        assert htmx_headers and all(h.get("x-csrf-token") == csrf for h in htmx_headers)

        page.get_by_role("link", name="Ada Okafor").click()
        expect(page).to_have_url(f"{base}/o/{ids['org']}/members/{ids['m1']}")
        turns_to = page.locator("#turns-to")
        expect(turns_to.get_by_role("link", name="Bea Lindqvist")).to_be_visible()
        expect(turns_to.get_by_role("link", name="Dev Patel")).to_be_visible()
        expect(turns_to).to_contain_text("emotional")
        turned_to_by = page.locator("#turned-to-by")
        expect(turned_to_by.get_by_role("link", name="Cai Ramos")).to_be_visible()
        expect(turned_to_by).not_to_contain_text("Bea Lindqvist")
        expect(page.get_by_text("+44 20 7946 0000")).to_be_visible()  # coordinator role
        page.screenshot(path=str(tmp_path / "member.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.screenshot(path=str(tmp_path / "member-phone.png"), full_page=True)

        # follow a tie to the other member
        turned_to_by.get_by_role("link", name="Cai Ramos").click()
        expect(page.locator("#turns-to").get_by_role("link", name="Ada Okafor")).to_be_visible()

        # the session ends during a search: the whole page goes to the login form (not the
        # form swapped into the results), and logging in returns to the member list
        members_url = f"{base}/o/{ids['org']}/c/{ids['community']}/members"
        page.get_by_role("link", name="Members").click()
        expect(page).to_have_url(members_url)
        context.clear_cookies()
        page.get_by_label("Search by name or id").press_sequentially("bea", delay=30)
        expect(page).to_have_url(
            f"{base}/login?next=/o/{ids['org']}/c/{ids['community']}/members"
        )
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(members_url)

        # log out through the form (its hidden CSRF field)
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(base + "/login")

        assert blocked == [], f"pages asked for outside resources: {blocked}"
        assert errors == [], errors

        # and the guard does block: an outside address never leaves the browser
        with pytest.raises(PlaywrightError):
            page.goto("http://example.com/")
        assert blocked == ["http://example.com/"]
    print(f"screenshots: {tmp_path / 'member.png'} {tmp_path / 'member-phone.png'}")
    shutil.copy(tmp_path / "member.png", tmp_path / "last-member.png")
