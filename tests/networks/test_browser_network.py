"""The network page in a real browser (Debian Chromium via Playwright, uvicorn on 127.0.0.1):
Karnataka village 1 is drawn by cytoscape.js from the server's preset layout, the at-risk tabs
swap in with HTMX, the what-if form answers in place. No request may leave this server and no
console error may be logged. Screenshots go to the test's tmp directory.
"""

from __future__ import annotations

import pytest

from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.db.engine import transaction
from tests.browser import browser_marks, log_in, offline_browser, served
from tests.networks._village import store_village

EMAIL, PASSWORD = "coordinator@example.org", "correct horse battery"

pytestmark = browser_marks


def seed(factory):  # type: ignore[no-untyped-def]
    v = store_village(factory)
    with transaction(factory) as s:
        user = auth_service.create_user(s, email=EMAIL, display_name="Cora Coordinator",
                                        password=PASSWORD)
        auth_service.grant_role(s, user_id=user.id, organisation_id=v.org_id,
                                role=Role.coordinator)
    return v


@pytest.fixture
def server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with served(tmp_path, monkeypatch, seed) as out:
        yield out


def test_network_view_draws_offline_without_errors(server, tmp_path) -> None:
    from playwright.sync_api import expect

    base, v = server
    with offline_browser() as (context, blocked, errors):
        page = context.new_page()
        log_in(page, base, EMAIL, PASSWORD)
        page.wait_for_url(f"{base}/o/{v.org_id}/**")
        page.get_by_role("link", name="Network").click()
        expect(page).to_have_url(f"{base}/o/{v.org_id}/c/{v.community_id}/network")
        view = page.locator("#network-view")
        expect(view).to_have_attribute("data-ready", "1", timeout=30_000)
        assert int(view.get_attribute("data-nodes")) == 843  # everyone fits under the cap
        assert int(view.get_attribute("data-edges")) == 1138
        expect(page.locator("#network-status")).to_contain_text("843 people")
        # the canvas really has pixels on it (not a blank box)
        drawn = page.evaluate("""() => {
            const cs = [...document.querySelectorAll('#network-view canvas')];
            return cs.some(c => { const x = c.getContext('2d'); if (!x) return false;
              const d = x.getImageData(0, 0, c.width, c.height).data;
              for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false; });
        }""")
        assert drawn
        page.screenshot(path=str(tmp_path / "network.png"), full_page=True)
        view.screenshot(path=str(tmp_path / "network-view.png"))
        page.locator("figure.robustness").screenshot(path=str(tmp_path / "robustness.png"))

        # the at-risk tabs swap in without a page load
        page.locator(".flag-tabs").get_by_role("link", name="Isolated").click()
        expect(page.locator("#at-risk .hint")).to_contain_text("Isolated")
        assert "flag=isolated" in page.url

        # what if the first single point of failure left
        page.get_by_role("button", name="Show what changes").click()
        result = page.locator("#whatif-result")
        expect(result).to_contain_text("Cut off from the main body")
        expect(result).to_contain_text("Person ")
        page.locator("#whatif-result").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "network-whatif.png"), full_page=True)

        # colour by community
        page.select_option("#network-colour", "community")
        expect(page.locator("#network-legend")).to_be_hidden()
    assert blocked == [], f"the page asked for outside resources: {blocked}"
    assert errors == [], errors
    print(f"screenshots: {tmp_path / 'network.png'} {tmp_path / 'network-view.png'}")
