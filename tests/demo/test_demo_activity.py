"""The demo shows every capability: `ensure_demo` seeds a survey wave, mutual aid with a time bank,
check-in plans and a safety check, and neighbourhood indicators with an index run, through the
ordinary services, once, the same for the same seed and clock, and the pages that show them
render."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from commonweal.auth import service as auth_service
from commonweal.checkins import safety
from commonweal.checkins import service as checkins
from commonweal.checkins.models import AlertReason, AlertStatus, Checkin, CheckinStatus
from commonweal.clock import FakeClock
from commonweal.db.engine import make_engine, make_session_factory
from commonweal.db.models import Base
from commonweal.demo.seed_checkins import SAFETY_TITLE
from commonweal.demo.seed_indicators import BOUNDARY_SET, SPEC_ID, SYNTHETIC, neighbourhood_boxes
from commonweal.demo.seed_survey import SURVEY_TITLE
from commonweal.indicators import boundaries, runs
from commonweal.indicators import service as indicators
from commonweal.indicators.models import IndexRun
from commonweal.mutual_aid import ledger
from commonweal.mutual_aid import service as aid
from commonweal.mutual_aid.models import AidNeed, LedgerTransfer
from commonweal.mutual_aid.vocab import NeedStatus
from commonweal.registry.demo import DEMO_EMAIL, DEMO_PASSWORD, ensure_demo
from commonweal.registry.models import Member
from commonweal.surveys import service as surveys
from commonweal.surveys.analysis import wave_report
from commonweal.surveys.models import SurveyResponse

# 15:20 UTC: after the check-in window opens (15:00), so today has answered and pending calls
NOW = dt.datetime(2026, 5, 4, 15, 20, tzinfo=dt.UTC)
MEMBERS = 400  # the size `serve --demo` loads


def _fresh(now: dt.datetime = NOW):
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    return factory, ensure_demo(factory, n_members=MEMBERS, clock=FakeClock(now))


@pytest.fixture(scope="module")
def demo():
    # cheap argon2 for the demo login (module fixtures run before the autouse per-test patch)
    mp = pytest.MonkeyPatch()
    mp.setattr(auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                       parallelism=1))
    factory, info = _fresh()
    yield factory, info
    mp.undo()


def _ids(info):
    return info["organisation_id"], info["community_id"]


def test_survey_wave_has_responses_and_scores(demo):
    factory, info = demo
    org, com = _ids(info)
    made = info["activity"]["survey"]
    assert made["responses"] == 200 and made["scores"] == 200 * 5  # four subscales and a total
    with factory() as s:
        (wave,) = [w for w in surveys.list_surveys(s, organisation_id=org, community_id=com)
                   if w.title == SURVEY_TITLE]
        assert wave.instrument_id == "bscs" and wave.closes_on < NOW.date()
        counts = surveys.response_counts(s, organisation_id=org, survey_id=wave.id)
        assert counts["total"] == 200
        # linked only where research consent is in force
        assert 0 < counts["linked_to_members"] < 200
        assert surveys.research_refused(s, organisation_id=org, survey_id=wave.id) == set()
        scores, total = surveys.list_scores(s, organisation_id=org, survey_id=wave.id, limit=5)
        assert total == 200 and len(scores) == 5 * 5
        assert all(1 <= sc.value <= 5 for sc, _ in scores if sc.value is not None)
        late = s.scalar(select(func.max(SurveyResponse.submitted_at))
                        .where(SurveyResponse.survey_id == wave.id))
        assert late is not None and late.date() <= wave.closes_on


def test_survey_report_has_reliability_and_a_sensible_cfa(demo):
    factory, info = demo
    org, _ = _ids(info)
    with factory() as s:
        report = wave_report(s, organisation_id=org,
                             survey_id=info["activity"]["survey"]["survey_id"]).to_dict()
    alphas = {r["subscale"]: r["alpha"] for r in report["reliability"]}
    assert set(alphas) == {"needs_fulfillment", "group_membership", "influence",
                           "emotional_connection", "total"}
    assert all(0.55 < a < 0.95 for a in alphas.values()), alphas
    assert alphas["total"] > 0.75
    cfa = report["cfa"]
    assert cfa["fitted"] and cfa["converged"] and not cfa["heywood"], cfa
    assert cfa["n"] >= cfa["n_needed"]
    std = [ld["std_all"] for ld in cfa["loadings"]]
    assert len(std) == 8 and all(0.5 < v < 1.0 for v in std), std
    assert all(ld["est"] > 0 for ld in cfa["loadings"])
    assert cfa["fit"]["cfi"] >= 0.95 and cfa["fit"]["srmr"] < 0.08, cfa["fit"]


def test_open_needs_and_offers_lie_inside_the_community(demo):
    factory, info = demo
    org, com = _ids(info)
    with factory() as s:
        lat = s.execute(select(func.min(Member.lat), func.max(Member.lat), func.min(Member.lon),
                               func.max(Member.lon)).where(Member.community_id == com)).one()
        needs, n_open = aid.list_needs(s, organisation_id=org, community_id=com,
                                       statuses=aid.OPEN_STATUSES)
        offers = aid.list_offers(s, organisation_id=org, community_id=com)
        progress, _ = aid.list_needs(s, organisation_id=org, community_id=com,
                                     statuses=[NeedStatus.in_progress])
        assert n_open == 5 and len(offers) == 7 and len(progress) == 1
        for x in [*needs, *offers]:
            assert lat[0] <= x.lat <= lat[1] and lat[2] <= x.lon <= lat[3]
        assert all(n.created_at <= NOW and n.suspected_duplicate_of_id is None for n in needs)


def test_completed_exchanges_book_balanced_time_bank_hours(demo):
    factory, info = demo
    org, com = _ids(info)
    with factory() as s:
        done, n_done = aid.list_needs(s, organisation_id=org, community_id=com,
                                      statuses=[NeedStatus.fulfilled])
        assert n_done == 6 and all(n.fulfilled_at <= NOW for n in done)
        assert ledger.verify(s, organisation_id=org) == []
        accounts = ledger.list_accounts(s, organisation_id=org)
        assert accounts and sum(a.balance_s for a in accounts) == 0
        recip = ledger.reciprocity(s, organisation_id=org, community_id=com)
        assert recip.total_exchanged_s == int(8.5 * 3600)
        assert recip.active_members == 6 and recip.both_give_and_receive == 5
        last = s.scalar(select(func.max(LedgerTransfer.created_at)))
        assert last is not None and last.replace(tzinfo=dt.UTC) < NOW - dt.timedelta(days=2)


def test_checkin_plans_calls_and_the_safety_check(demo):
    factory, info = demo
    org, com = _ids(info)
    with factory() as s:
        plans = checkins.list_plans(s, organisation_id=org)
        assert len(plans) == 6
        people = {m.id: m for m in s.scalars(select(Member).where(Member.id.in_(
            [p.member_id for p in plans])))}
        assert all(m.lives_alone and m.community_id == com for m in people.values())
        calls = list(s.scalars(select(Checkin)))
        answered = [c for c in calls if c.status == CheckinStatus.answered]
        assert len(answered) >= 15  # four days of calls
        assert all(c.answered_at.replace(tzinfo=dt.UTC) <= NOW for c in answered)
        today = [c for c in calls if c.opens_at.date() == NOW.date()]
        assert {c.status for c in today} == {CheckinStatus.answered, CheckinStatus.pending}
        (check,) = safety.list_safety_checks(s, organisation_id=org)
        assert check.title == SAFETY_TITLE and not check.closed
        counts = safety.safety_counts(s, check_id=check.id)
        assert counts["need_help"] == 1 and counts["safe"] > 10 and counts["no_answer"] > 0
        assert counts["total"] == counts["safe"] + counts["need_help"] + counts["no_answer"]
        assert counts == {k: v for k, v in info["activity"]["checkins"]["safety_check"].items()
                          if k != "safety_check_id"}
        alerts = checkins.list_alerts(s, organisation_id=org, open_only=False)
        reasons = {(str(a.reason), str(a.status)) for a in alerts}
        assert reasons == {(AlertReason.safety_need_help, AlertStatus.open),
                           (AlertReason.missed, AlertStatus.resolved)}


def _row_counts(factory) -> dict[str, int]:
    with factory() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def test_a_second_ensure_demo_adds_nothing(demo):
    factory, _ = demo
    before = _row_counts(factory)
    again = ensure_demo(factory, n_members=MEMBERS, clock=FakeClock(NOW + dt.timedelta(days=1)))
    assert again["created"] is False
    assert again["activity"] == {"survey": None, "mutual_aid": None, "checkins": None,
                                 "indicators": None}
    assert _row_counts(factory) == before


def _fingerprint(factory):
    with factory() as s:
        answers = [r.answers for r in s.scalars(select(SurveyResponse)
                                                .order_by(SurveyResponse.id))]
        needs = s.execute(select(AidNeed.requester_member_id, AidNeed.category, AidNeed.status,
                                 AidNeed.created_at).order_by(AidNeed.id)).all()
        calls = s.execute(select(Checkin.member_id, Checkin.status, Checkin.answered_at)
                          .order_by(Checkin.id)).all()
        run = s.scalars(select(IndexRun)).one()
        values, _ = indicators.list_values(s, organisation_id=run.organisation_id, limit=1000)
        ranks, _ = runs.list_uncertainty(s, organisation_id=run.organisation_id, run_id=run.id,
                                         limit=100)
    return answers, needs, calls, values, ranks


def test_same_seed_and_clock_give_the_same_activity(demo):
    factory, info = demo
    other, info2 = _fresh()
    assert info2["activity"] == info["activity"]
    assert _fingerprint(other) == _fingerprint(factory)


def test_before_the_call_window_nothing_is_answered_ahead_of_time():
    early = NOW.replace(hour=6)
    factory, _ = _fresh(early)
    with factory() as s:
        calls = list(s.scalars(select(Checkin)))
        assert all(c.answered_at is None or c.answered_at.replace(tzinfo=dt.UTC) <= early
                   for c in calls)
        assert all(c.status == CheckinStatus.pending for c in calls
                   if c.opens_at.date() == early.date())
        created = s.scalars(select(AidNeed.created_at)).all()
        assert max(c.replace(tzinfo=dt.UTC) for c in created) <= early


def test_the_pages_show_the_seeded_activity(demo):
    from tests.helpers import login, make_client

    factory, info = demo
    org, com = _ids(info)
    client = make_client(factory)
    login(client, DEMO_EMAIL, DEMO_PASSWORD)
    html = {"accept": "text/html"}
    r = client.get(f"/o/{org}/c/{com}/aid/ledger", headers=html)
    assert r.status_code == 200, r.text
    assert "8.5 hours exchanged" in r.text and "all balances sum to zero" in r.text
    r = client.get(f"/o/{org}/checkins", headers=html)
    assert r.status_code == 200, r.text
    assert SAFETY_TITLE in r.text
    check_id = info["activity"]["checkins"]["safety_check"]["safety_check_id"]
    r = client.get(f"/o/{org}/checkins/safety/{check_id}", headers=html)
    assert r.status_code == 200 and 'data-count="safe"' in r.text
    r = client.get(f"/o/{org}/c/{com}/aid", headers=html)
    assert r.status_code == 200, r.text
    r = client.get(f"/o/{org}/c/{com}/surveys", headers=html)
    assert r.status_code == 200 and SURVEY_TITLE in r.text
    r = client.get(f"/o/{org}/surveys/{info['activity']['survey']['survey_id']}", headers=html)
    assert r.status_code == 200, r.text
    assert "Brief Sense of Community Scale" in r.text


def test_neighbourhoods_tile_the_homes_with_their_own_boundaries(demo):
    factory, info = demo
    org, com = _ids(info)
    made = info["activity"]["indicators"]
    n = made["neighbourhoods"]
    assert 20 <= n <= 30 and made["period"] == str(NOW.year)
    with factory() as s:
        geos, total = indicators.list_geographies(s, organisation_id=org, level="neighbourhood")
        assert total == n and [g.code for g in geos] == [f"N{k:02d}" for k in range(1, n + 1)]
        (bset,) = boundaries.list_boundaries(s, organisation_id=org)
        assert bset["name"] == BOUNDARY_SET and bset["n_features"] == n
        shapes = boundaries.boundary_shapes(s, organisation_id=org)
        homes = s.execute(select(Member.lat, Member.lon).where(
            Member.community_id == com, Member.lat.is_not(None))).all()
    assert set(shapes) == {g.code for g in geos}
    for shape in shapes.values():
        (ring,) = shape["geometry"]["coordinates"]
        assert ring[0] == ring[-1] and len(ring) == 5
        assert all(-115 < lon < -113 and 50 < lat < 52 for lon, lat in ring)  # lon/lat order
    # every located member is in exactly one neighbourhood, as the seeder counted them
    assert made["members_placed"] == len(homes)
    boxes = neighbourhood_boxes([(lat, lon) for lat, lon in homes])
    assert set(boxes) == set(shapes)
    inside = [sum(s_ <= lat <= n_ and w <= lon <= e for s_, w, n_, e in boxes.values())
              for lat, lon in homes]
    assert inside == [1] * len(homes)


def test_neighbourhood_values_come_from_the_registry(demo):
    factory, info = demo
    org, _ = _ids(info)
    made = info["activity"]["indicators"]
    n = made["neighbourhoods"]
    with factory() as s:
        inds = {i.code: i for i in indicators.list_indicators(s, organisation_id=org)}
        values, total = indicators.list_values(s, organisation_id=org, period=made["period"],
                                               limit=1000)
    assert set(inds) == {"members", "living_alone_pct", "isolated_pct", "supporters_mean",
                         "assets_per_100", SYNTHETIC}
    assert inds["isolated_pct"].direction == -1 and inds["assets_per_100"].domain == "physical"
    assert "SYNTHETIC" in inds[SYNTHETIC].name and "not part of the index" in inds[SYNTHETIC].notes
    assert total == made["values"] == n * len(inds)
    by = {(v["geography"], v["indicator"]): v["value"] for v in values}
    assert sum(by[(f"N{k:02d}", "members")] for k in range(1, n + 1)) == made["members_placed"]
    assert all(v is not None for v in by.values())
    assert all(0 <= by[(g, i)] <= 100 for g, i in by if i.endswith("_pct"))
    assert sum(by[(g, "assets_per_100")] * by[(g, "members")] / 100
               for g, i in by if i == "members") == pytest.approx(made["assets_placed"], abs=0.01)


def test_the_index_run_and_its_rank_uncertainty(demo):
    factory, info = demo
    org, _ = _ids(info)
    made = info["activity"]["indicators"]
    n = made["neighbourhoods"]
    with factory() as s:
        (run,) = runs.list_runs(s, organisation_id=org)
        assert run.id == made["run_id"] and run.spec_id == SPEC_ID and run.n_units == n
        assert run.period == made["period"] and run.index_column == "FABRIC"
        results, total = runs.list_results(s, organisation_id=org, run_id=run.id, limit=100)
        assert total == n and all(r["score"] is not None for r in results)
        assert results[0]["rank"] == 1 and {"TIES", "ASSETS"} <= set(results[0]["outputs"])
        assert run.uncertainty is not None and run.uncertainty["n_draws"] == made[
            "uncertainty_draws"]
        ranks, total = runs.list_uncertainty(s, organisation_id=org, run_id=run.id, limit=100)
        assert total == n and all(1 <= r["rank_p05"] <= r["rank_p95"] <= n for r in ranks)
        assert any(r["interval_width"] > 0 for r in ranks)
        gj = runs.run_geojson(s, organisation_id=org, run_id=run.id)
    assert gj["properties"]["unmatched"] == 0 and gj["properties"]["n_units"] == n
    assert len(gj["features"]) == n and all(f["geometry"]["type"] == "Polygon"
                                             for f in gj["features"])
    assert "own boundary sets" in gj["properties"]["boundaries"]


def test_the_run_page_draws_the_own_neighbourhoods(demo):
    from tests.helpers import login, make_client

    factory, info = demo
    org, _ = _ids(info)
    client = make_client(factory)
    login(client, DEMO_EMAIL, DEMO_PASSWORD)
    run_id = info["activity"]["indicators"]["run_id"]
    r = client.get(f"/o/{org}/indicators/runs/{run_id}", headers={"accept": "text/html"})
    assert r.status_code == 200, r.text
    assert "data-geojson=" in r.text and BOUNDARY_SET in r.text
    assert 'class="rank-plot"' in r.text and "Neighbourhood fabric index" in r.text
    r = client.get(f"/api/v1/orgs/{org}/index-runs/{run_id}/map.geojson")
    assert r.status_code == 200 and r.json()["properties"]["unmatched"] == 0


def test_indicators_are_made_once_even_when_only_they_are_missing():
    # an older demo database (activity without indicators) gains them; a third call adds nothing
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    first = ensure_demo(factory, n_members=60, clock=FakeClock(NOW))
    org = first["organisation_id"]
    assert first["activity"]["indicators"]["n_units"] >= 2
    with factory.begin() as s:
        for run in runs.list_runs(s, organisation_id=org):
            s.delete(run)
        boundaries.delete_boundaries(s, organisation_id=org, name=BOUNDARY_SET)
    again = ensure_demo(factory, n_members=60, clock=FakeClock(NOW))
    assert again["activity"]["survey"] is None and again["activity"]["indicators"] is not None
    before = _row_counts(factory)
    third = ensure_demo(factory, n_members=60, clock=FakeClock(NOW))
    assert third["activity"]["indicators"] is None and _row_counts(factory) == before
