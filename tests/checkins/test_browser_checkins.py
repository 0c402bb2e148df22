"""A real browser (Debian's Chromium via Playwright) on the check-in pages: open alerts with an
Acknowledge button (htmx swap, CSRF header), the safety-check board whose counts refresh live while
someone marks themself safe through a single-use link. No outside request, no console error."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from commonweal.auth import service as auth_service
from commonweal.auth.models import Role
from commonweal.checkins import safety
from commonweal.checkins import service as svc
from commonweal.checkins.clock import FakeClock
from commonweal.checkins.links import issue_link
from commonweal.checkins.models import LinkPurpose, SafetyTarget
from commonweal.db.engine import transaction
from commonweal.notify.base import InMemoryNotifier
from commonweal.registry import service as reg
from commonweal.registry.schemas import CommunityCreate, MemberCreate, TieCreate
from tests.browser import browser_marks, log_in, offline_browser, served
from tests.checkins.conftest import drain

pytestmark = browser_marks

EMAIL, PASSWORD = "cora@example.org", "correct horse battery"


def seed(factory) -> dict[str, object]:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    with transaction(factory) as s:
        org = reg.create_organisation(s, name="Riverside Mutual Aid")
        c = reg.create_community(s, organisation_id=org.id, data=CommunityCreate(name="Riverside"))
        ids = {}
        for ext, name, lat in [("m1", "Ada Okafor", 51.50), ("m2", "Bea Lindqvist", 51.501),
                               ("m3", "Cai Ramos", 51.502)]:
            ids[ext] = reg.create_member(s, organisation_id=org.id, community_id=c.id,
                                         data=MemberCreate(external_id=ext, display_name=name,
                                                           phone="+44 20 7946 0000", lat=lat,
                                                           lon=-0.12)).id
        reg.create_tie(s, organisation_id=org.id, data=TieCreate(
            from_member_id=ids["m1"], to_member_id=ids["m2"], kind="friend"))
        u = auth_service.create_user(s, email=EMAIL, display_name="Cora Coordinator",
                                     password=PASSWORD)
        auth_service.grant_role(s, user_id=u.id, organisation_id=org.id, role=Role.coordinator)
        svc.start_session(s, organisation_id=org.id, member_id=ids["m1"], now=now,
                          expected_end_at=now + dt.timedelta(minutes=1), grace_minutes=0)
        check = safety.create_safety_check(s, organisation_id=org.id, community_id=c.id,
                                           title="Flood on River Road",
                                           message="The river is over its banks.",
                                           selector={"kind": "community"}, now=now)
        s.flush()
        target = s.query(SafetyTarget).filter_by(member_id=ids["m3"]).one()
        token = issue_link(s, organisation_id=org.id, purpose=LinkPurpose.safety,
                           ref_id=target.id, now=now, member_id=ids["m3"])
        out: dict[str, object] = {"org": org.id, "check": check.id, "token": token, **ids}
    # the worker, an hour later: the session is missed and its alert goes to Ada's supporter
    clock = FakeClock(now + dt.timedelta(hours=1))
    drain(factory, InMemoryNotifier(), clock)
    return out


@pytest.fixture
def server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    with served(tmp_path, monkeypatch, seed) as out:
        yield out


def test_acknowledge_an_alert_and_watch_the_safety_board(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    base, ids = server
    shots = Path(os.environ.get("COMMONWEAL_SHOTS", tmp_path))
    with offline_browser() as (context, blocked, errors):
        page = context.new_page()
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(f"{base}/o/{ids['org']}/checkins")
        row = page.locator("#alerts tbody tr").first
        expect(row).to_contain_text("Ada Okafor")
        expect(row).to_contain_text("missed")
        page.screenshot(path=str(shots / "checkins-today.png"), full_page=True)
        row.get_by_role("button", name="Acknowledge").click()
        expect(page.locator("#alerts tbody tr").first).to_contain_text("acknowledged")
        expect(page.get_by_role("status")).to_contain_text("You own this alert")

        page.goto(f"{base}/o/{ids['org']}/checkins/safety/{ids['check']}")
        expect(page.locator('[data-count="no_answer"]')).to_have_text("3")
        # Cai answers through the single-use link in another tab; the board updates by itself
        other = context.new_page()
        other.goto(f"{base}/safe?t={ids['token']}")
        other.get_by_role("button", name="I am safe").click()
        expect(other.get_by_role("status")).to_contain_text("marked safe")
        expect(page.locator('[data-count="safe"]')).to_have_text("1", timeout=10_000)
        expect(page.locator('[data-count="no_answer"]')).to_have_text("2")
        page.screenshot(path=str(shots / "checkins-safety-board.png"), full_page=True)
    assert blocked == [], blocked
    assert errors == [], errors
    print(f"screenshots in {shots}")
