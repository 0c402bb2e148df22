"""The county map in a real browser (Debian Chromium + Playwright, uvicorn on 127.0.0.1): log in,
open an SVI 2018 run, and check that every county of the run is drawn, with a legend, from the
bundled boundaries -- no request leaves this server and nothing is logged as an error."""

from __future__ import annotations

import pytest

from commonweal.analytics.indicators import Alternatives
from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.db.engine import transaction
from commonweal.indicators import runs
from commonweal.indicators import service as svc
from commonweal.registry import service as reg
from tests.browser import browser_marks, log_in, offline_browser, served
from tests.helpers import shared_data

pytestmark = browser_marks

EMAIL, PASSWORD = "planner@example.org", "correct horse battery"


def seed_svi(factory):  # type: ignore[no-untyped-def]
    path = shared_data("svi", "SVI2018_US_COUNTY.csv")
    spec, _ = runs.resolve_spec("svi2018")
    long, names = svc.read_values_file(
        path, unit="FIPS", columns=[i.column for i in spec.indicators], name_column="LOCATION"
    )
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="County Planning")
        user = auth_service.create_user(
            s, email=EMAIL, display_name="Pat Planner", password=PASSWORD
        )
        auth_service.grant_role(s, user_id=user.id, organisation_id=org.id, role=Role.researcher)
        svc.load_values(s, organisation_id=org.id, long=long, period="2018", names=names)
        run = runs.run_index(s, organisation_id=org.id, spec_ref="svi2018", period="2018")
        runs.run_uncertainty_for(
            s,
            organisation_id=org.id,
            run_id=run.id,
            alternatives=Alternatives(normalisations=("spec", "minmax")),
            n_draws=10,
        )
        return {"org": org.id, "run": run.id}


@pytest.fixture
def server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with served(tmp_path, monkeypatch, seed_svi) as out:
        yield out


def test_county_map_draws_every_county_offline(server, tmp_path) -> None:
    from playwright.sync_api import expect

    base, ids = server
    with offline_browser(height=1000) as (context, blocked, errors):
        page = context.new_page()
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{ids['org']}")
        page.get_by_role("link", name="Indicators and indices").click()
        page.get_by_role("link", name="CDC/ATSDR SVI 2018, county").click()
        expect(page.locator("#county-map[data-map-ready]")).to_have_count(1, timeout=30_000)
        assert page.locator("#county-map").get_attribute("data-map-ready") == "3142"
        paths = page.locator("#county-map path.leaflet-interactive")
        assert paths.count() == 3142
        expect(page.locator("#map-status")).to_have_text("3142 counties drawn.")
        legend = page.locator("#county-map .map-panel").last
        expect(legend).to_contain_text("RPL_THEMES (quintiles)")
        expect(legend).to_contain_text("missing")
        # hover a county: its name and score appear in the info panel
        paths.nth(1500).hover(force=True)
        info = page.locator("#county-map .map-panel").first
        expect(info).to_contain_text("RPL_THEMES: ")
        expect(info).to_contain_text("rank ")
        assert page.locator("svg.rank-plot circle").count() == 25
        page.screenshot(path=str(tmp_path / "county-map.png"), full_page=True)
    assert blocked == []
    assert errors == []


@pytest.fixture
def ward_server(tmp_path, monkeypatch, tiny_spec):  # type: ignore[no-untyped-def]
    """Three units: two with the organisation's own (Bengaluru) ward shapes, one US county."""
    from commonweal.indicators import boundaries
    from tests.indicators.test_boundaries import WARDS

    values = tmp_path / "values.csv"
    values.write_text("fips,name,m_a,m_b\n1001,Ward One,1,10\n1003,Ward Three,2,30\n"
                      "1005,Barbour,3,20\n", encoding="utf-8")

    def seed(factory):  # type: ignore[no-untyped-def]
        long, names = svc.read_values_file(values, unit="fips", columns=["m_a", "m_b"],
                                           name_column="name", unit_width=5)
        with transaction(factory) as s:
            org = reg.create_organisation(s, name="Ward Planning")
            user = auth_service.create_user(s, email=EMAIL, display_name="Pat",
                                            password=PASSWORD)
            auth_service.grant_role(s, user_id=user.id, organisation_id=org.id,
                                    role=Role.researcher)
            svc.load_values(s, organisation_id=org.id, long=long, period="2018", names=names)
            run = runs.run_index(s, organisation_id=org.id, spec_ref=str(tiny_spec),
                                 period="2018")
            boundaries.store_boundaries(s, organisation_id=org.id, name="wards", features=(
                boundaries.parse_boundaries(WARDS, code_property="ward", name_property="label")))
            return {"org": org.id, "run": run.id}

    with served(tmp_path, monkeypatch, seed) as out:
        yield out


def test_own_boundaries_are_drawn(ward_server) -> None:
    from playwright.sync_api import expect

    base, ids = ward_server
    with offline_browser() as (context, blocked, errors):
        page = context.new_page()
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{ids['org']}/indicators/runs/{ids['run']}")
        expect(page.locator("#county-map[data-map-ready]")).to_have_count(1, timeout=30_000)
        assert page.locator("#county-map").get_attribute("data-map-ready") == "3"
        assert page.locator("#county-map path.leaflet-interactive").count() == 3
        expect(page.locator("#map-status")).to_have_text("3 areas drawn.")
    assert blocked == []
    assert errors == []
