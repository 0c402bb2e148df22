"""The county map in a real browser (Debian Chromium + Playwright, uvicorn on 127.0.0.1): log in,
open an SVI 2018 run, and check that every county of the run is drawn, with a legend, from the
bundled boundaries -- no request leaves this server and nothing is logged as an error."""

from __future__ import annotations

import pytest

from commonweal.analytics.indicators import Alternatives
from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.db.engine import make_engine, make_session_factory, transaction
from commonweal.db.models import Base
from commonweal.indicators import runs
from commonweal.indicators import service as svc
from commonweal.registry import service as reg
from tests.browser import browser_marks, live_server, log_in, offline_browser
from tests.helpers import shared_data

pytestmark = browser_marks

EMAIL, PASSWORD = "planner@example.org", "correct horse battery"


@pytest.fixture
def server(tmp_path, monkeypatch):

    from argon2 import PasswordHasher

    from commonweal.settings import Settings
    from commonweal.web.app import create_app

    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    path = shared_data("svi", "SVI2018_US_COUNTY.csv")
    url = f"sqlite:///{tmp_path / 'commonweal.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
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
        ids = {"org": org.id, "run": run.id}
    app = create_app(Settings(database_url=url, environment="test"), session_factory=factory)
    with live_server(app) as base:
        yield base, ids
    engine.dispose()


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
def ward_server(tmp_path, monkeypatch, tiny_spec):
    """Three units: two with the organisation's own (Bengaluru) ward shapes, one US county."""
    from argon2 import PasswordHasher

    from commonweal.indicators import boundaries
    from commonweal.settings import Settings
    from commonweal.web.app import create_app
    from tests.indicators.test_boundaries import WARDS

    monkeypatch.setattr(
        auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    values = tmp_path / "values.csv"
    values.write_text("fips,name,m_a,m_b\n1001,Ward One,1,10\n1003,Ward Three,2,30\n"
                      "1005,Barbour,3,20\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'commonweal.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    spec, _ = runs.resolve_spec(str(tiny_spec))
    long, names = svc.read_values_file(values, unit="fips", columns=["m_a", "m_b"],
                                       name_column="name", unit_width=5)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Ward Planning")
        user = auth_service.create_user(s, email=EMAIL, display_name="Pat", password=PASSWORD)
        auth_service.grant_role(s, user_id=user.id, organisation_id=org.id, role=Role.researcher)
        svc.load_values(s, organisation_id=org.id, long=long, period="2018", names=names)
        run = runs.run_index(s, organisation_id=org.id, spec_ref=str(tiny_spec), period="2018")
        boundaries.store_boundaries(s, organisation_id=org.id, name="wards", features=(
            boundaries.parse_boundaries(WARDS, code_property="ward", name_property="label")))
        ids = {"org": org.id, "run": run.id}
    app = create_app(Settings(database_url=url, environment="test"), session_factory=factory)
    with live_server(app) as base:
        yield base, ids
    engine.dispose()


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
