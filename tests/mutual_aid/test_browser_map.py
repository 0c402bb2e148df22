"""The crisis map and the dispatcher desk in a real browser (Debian's Chromium via Playwright).

Markers come from the GeoJSON endpoint into Leaflet's cluster layer with NO tile server: every
request that is not to this server is aborted and counted, and must be zero. A filter change
reloads the markers and rewrites the export links. Then a dispatcher accepts a suggestion and the
matched volunteer sees the address on "my claims". Screenshots go to the test's tmp directory.
"""

from __future__ import annotations

import datetime as dt

import pytest

from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.db.engine import transaction
from commonweal.mutual_aid import crisis, service
from commonweal.mutual_aid.clock import SYSTEM_CLOCK
from commonweal.mutual_aid.schemas import CrisisReportCreate, NeedCreate, OfferCreate
from commonweal.mutual_aid.vocab import Channel
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate
from tests.browser import browser_marks, log_in, offline_browser, served

pytestmark = browser_marks

PASSWORD = "correct horse battery"
REPORTS = [  # three close together (one cluster at city zoom), one across town, one unlocated
    ("Family trapped on roof", "shelter", 4, 51.5201, -0.1302),
    ("Water over the road", "other", 3, 51.5203, -0.1305),
    ("Elderly man without insulin", "prescriptions", 4, 51.5199, -0.1299),
    ("Shop open, needs volunteers", "groceries", 1, 51.4700, -0.0500),
    ("Phone line down", "information", 2, None, None),
]


def seed(factory) -> dict[str, int]:
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Riverside Mutual Aid")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Riverside"))
        users = {}
        for key, role in (("coord", Role.coordinator), ("vol", Role.volunteer)):
            u = auth_service.create_user(
                s, email=f"{key}@example.org", display_name=key.title(), password=PASSWORD
            )
            auth_service.grant_role(s, user_id=u.id, organisation_id=org.id, role=role)
            users[key] = u.id
        now = dt.datetime.now(dt.UTC)
        for title, cat, sev, lat, lon in REPORTS:
            crisis.create_report(
                s,
                organisation_id=org.id,
                channel=Channel.sms,
                now=now,
                data=CrisisReportCreate(
                    title=title, category=cat, severity=sev, lat=lat, lon=lon, community_id=c.id
                ),
            )
        service.create_need(
            s,
            organisation_id=org.id,
            community_id=c.id,
            channel=Channel.web,
            clock=SYSTEM_CLOCK,
            data=NeedCreate(
                category="groceries",
                urgency=3,
                lat=51.5123,
                lon=-0.1211,
                area="Mill Lane",
                address="4 Wren Row",
                contact="07700 900555",
            ),
        )
        service.create_offer(
            s,
            organisation_id=org.id,
            community_id=c.id,
            channel=Channel.web,
            user_id=users["vol"],
            dispatcher=False,
            data=OfferCreate(categories=["groceries"], lat=51.513, lon=-0.122),
        )
        return {"org": org.id, "community": c.id, **users}


@pytest.fixture
def server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with served(tmp_path, monkeypatch, seed) as out:
        yield out


def _login(page, base: str, email: str) -> None:
    log_in(page, base, email, PASSWORD)
    page.wait_for_url(lambda u: "/login" not in u)


def test_crisis_map_and_dispatch_in_the_browser(server, tmp_path) -> None:
    from playwright.sync_api import expect

    base, ids = server
    aid = f"{base}/o/{ids['org']}/c/{ids['community']}/aid"
    with offline_browser() as (context, blocked, errors):
        page = context.new_page()
        _login(page, base, "coord@example.org")

        page.goto(aid + "/map")
        the_map = page.locator("#crisis-map")
        expect(the_map).to_have_attribute("data-ready", "true")
        expect(the_map).to_have_attribute("data-markers", "4")  # the unlocated one is listed
        expect(page.locator("#map-count")).to_have_text("4 report(s) on the map")
        expect(page.locator(".leaflet-container")).to_be_visible()
        # clustering: the three reports a few metres apart draw as one cluster of 3
        expect(page.locator(".marker-cluster").first).to_be_visible()
        expect(page.locator(".marker-cluster", has_text="3")).to_have_count(1)
        assert page.locator(".leaflet-tile").count() == 0  # no tiles at all
        page.screenshot(path=str(tmp_path / "crisis-map.png"), full_page=True)
        # a filter reloads the markers and the export links follow it
        page.locator("#f-sev").select_option("4")
        expect(the_map).to_have_attribute("data-markers", "2")
        href = page.locator("#export-hxl").get_attribute("href")
        assert "hxl=true" in href and "min_severity=4" in href
        response = page.request.get(base + href)
        assert response.ok and "#geo+lat" in response.text()
        assert response.text().count("\n") == 2 + 2  # header, hashtags, two reports
        expect(page.locator("table.list tbody tr")).to_have_count(5)
        # report from the page: a click on the map places it, the marker appears
        page.locator("#f-sev").select_option("")
        expect(the_map).to_have_attribute("data-markers", "4")
        the_map.click(position={"x": 300, "y": 200})
        assert page.locator("#r-lat").input_value() != ""
        page.get_by_label("What is happening?").fill("Gas smell near school")
        page.get_by_role("button", name="Send report").click()
        expect(page.locator("#report-message")).to_contain_text("sent")
        expect(the_map).to_have_attribute("data-markers", "5")

        # the dispatcher asks for suggestions and accepts the one shown, with its reasons
        page.goto(aid + "/dispatch")
        page.locator("#run-matching").click()
        card = page.locator("#suggestions li").first
        expect(card).to_contain_text("km away")
        expect(page.locator("#vs-greedy")).to_contain_text("Needs met: 1 of 1")
        card.get_by_role("button", name="Accept").click()
        expect(page.locator("#suggestions li").first).to_contain_text("accepted")
        page.screenshot(path=str(tmp_path / "dispatch.png"), full_page=True)

        # the matched volunteer now sees the address on "my claims"
        context.clear_cookies()
        _login(page, base, "vol@example.org")
        page.goto(aid + "/mine")
        expect(page.get_by_text("Address: 4 Wren Row")).to_be_visible()
        page.goto(aid)
        expect(page.get_by_text("4 Wren Row")).to_have_count(0)
        # the volunteer offers more help from the page
        page.goto(aid + "/mine")
        page.get_by_label("I can help with").select_option(["transport", "check_in"])
        page.get_by_label("Latitude of my base").fill("51.51")
        page.get_by_label("Longitude", exact=True).fill("-0.12")
        page.get_by_role("button", name="Offer help").click()
        expect(page.get_by_text("transport, check in")).to_be_visible()
    assert blocked == []
    assert errors == []
