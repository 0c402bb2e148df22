"""Hard constraints: the candidate set equals a plain enumeration of every rule, and no assignment
(optimal, greedy, re-optimised) ever breaks a capacity, cap, category, distance or vetting rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from commonweal.analytics.matching import (
    SENSITIVE_CATEGORIES,
    MatchConfig,
    Need,
    Offer,
    VolunteerState,
    build_candidates,
    great_circle_km,
    greedy_assignment,
    normalise_category,
    optimal_assignment,
    prepare,
)


def haversine_km(lat1, lon1, lat2, lon2, r=6371.0088):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def overlap_s(need, offer):
    if not offer.windows:
        return need.window_end - need.window_start
    merged = []
    for s, e in sorted(offer.windows):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return sum(max(0.0, min(need.window_end, e) - max(need.window_start, s)) for s, e in merged)


def allowed(need, offer, vol_left):
    """Every hard rule, written out plainly, one pair at a time."""
    cat = normalise_category(need.category)
    return (
        cat in {normalise_category(c) for c in offer.categories}
        and haversine_km(need.lat, need.lon, offer.lat, offer.lon) <= offer.max_distance_km
        and overlap_s(need, offer) > 0
        and (not need.language_required or set(need.languages) & set(offer.languages))
        and (cat not in SENSITIVE_CATEGORIES or offer.vetted)
        and set(need.accessibility) <= set(offer.skills)
        and offer.capacity > 0
        and vol_left[offer.volunteer_id] > 0
        and need.requester_id != offer.volunteer_id
    )


def test_known_distance_one_degree_of_longitude_on_the_equator():
    # analytic reference: an arc of 1 degree on a sphere of radius R is R * pi / 180
    d = great_circle_km(np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([1.0]))
    assert d[0] == pytest.approx(6371.0088 * math.pi / 180, rel=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_candidates_equal_plain_enumeration(make_instance, seed):
    needs, offers, vols = make_instance(500 + seed, n_needs=25, n_offers=20)
    problem = prepare(needs, offers, vols)
    cands = build_candidates(problem)
    left = {v.volunteer_id: v.monthly_cap - v.taken_this_month for v in vols}
    expected = {(n.id, o.id) for n in needs for o in offers if allowed(n, o, left)}
    got = {
        (needs[int(a)].id, offers[int(b)].id) for a, b in zip(cands.need, cands.offer, strict=True)
    }
    assert got == expected
    assert len(expected) > 10
    for r in range(len(cands)):
        n, o = needs[int(cands.need[r])], offers[int(cands.offer[r])]
        assert cands.distance_km[r] == pytest.approx(
            haversine_km(n.lat, n.lon, o.lat, o.lon), abs=1e-6
        )
        assert cands.overlap_s[r] == pytest.approx(overlap_s(n, o))
        assert np.all((cands.components[r] >= 0) & (cands.components[r] <= 1))


def test_antimeridian_pairs_are_found():
    needs = [Need("n", "repairs", 0.0, 179.995, 0, 10)]
    offers = [Offer("o", "v", ("repairs",), 0.0, -179.995, max_distance_km=2)]
    cands = build_candidates(prepare(needs, offers))
    assert len(cands) == 1
    assert cands.distance_km[0] == pytest.approx(6371.0088 * math.radians(0.01), rel=1e-9)


def check_assignment(problem, result, needs, offers, vols):
    by_need, by_offer, by_vol = {}, {}, {}
    left = {v.volunteer_id: v.monthly_cap - v.taken_this_month for v in vols}
    for s in result.suggestions:
        n = needs[problem.need_index[s.need_id]]
        o = offers[problem.offer_index[s.offer_id]]
        if not s.fixed:
            assert allowed(n, o, left), (s.need_id, s.offer_id)
        by_need[n.id] = by_need.get(n.id, 0) + 1
        by_offer[o.id] = by_offer.get(o.id, 0) + 1
        by_vol[o.volunteer_id] = by_vol.get(o.volunteer_id, 0) + 1
        assert s.volunteer_id == o.volunteer_id
        assert s.reasons and s.reasons[0].endswith("km)") and "km away" in s.reasons[0]
        assert set(s.components) == {
            "distance",
            "fit",
            "language",
            "window",
            "vetting",
            "urgency",
            "fairness",
        }
        weights = MatchConfig().weights.normalised()
        assert s.score == pytest.approx(
            sum(w * v for w, v in zip(weights, s.components.values(), strict=True))
        )
    assert len(set(result.pairs())) == len(result.pairs())
    need_vol = [(s.need_id, s.volunteer_id) for s in result.suggestions]
    assert len(set(need_vol)) == len(need_vol)  # a need's volunteers are distinct people
    for n in needs:
        assert by_need.get(n.id, 0) <= n.quantity
    for o in offers:
        assert by_offer.get(o.id, 0) <= o.capacity
    for v, k in by_vol.items():
        assert k <= left.get(v, 8)


@pytest.mark.parametrize("seed", range(6))
def test_no_assignment_breaks_a_rule(make_instance, seed):
    needs, offers, vols = make_instance(900 + seed, n_needs=50, n_offers=35)
    problem = prepare(needs, offers, vols)
    for result in (
        optimal_assignment(problem, solver="highs"),
        optimal_assignment(problem, MatchConfig(objective="urgent_first"), solver="highs"),
        greedy_assignment(problem),
    ):
        check_assignment(problem, result, needs, offers, vols)
        met = {s.need_id for s in result.suggestions}
        assert result.slots_filled == len(result.suggestions)
        assert set(result.unmet_need_ids) <= {n.id for n in needs}
        assert result.needs_met + len(result.unmet_need_ids) == len(needs)
        assert result.needs_met <= len(met)


def test_sensitive_category_needs_a_vetted_volunteer():
    needs = [Need("n", "childcare", 52.52, 13.40, 0, 3600)]
    offers = [
        Offer("unvetted", "v1", ("childcare",), 52.52, 13.40, vetted=False),
        Offer("vetted", "v2", ("childcare",), 52.53, 13.40, vetted=True),
    ]
    result = optimal_assignment(prepare(needs, offers), solver="highs")
    assert result.pairs() == [("n", "vetted")]
    relaxed = MatchConfig(sensitive_categories=frozenset())
    assert len(build_candidates(prepare(needs, offers), relaxed)) == 2


def test_fairness_spreads_load_and_respects_taken_matches():
    needs = [Need(f"n{i}", "groceries", 52.52, 13.40, 0, 3600) for i in range(2)]
    offers = [
        Offer("a", "va", ("groceries",), 52.52, 13.40, capacity=2),
        Offer("b", "vb", ("groceries",), 52.52, 13.40, capacity=2),
    ]
    even = optimal_assignment(prepare(needs, offers), solver="highs")
    assert sorted(s.volunteer_id for s in even.suggestions) == ["va", "vb"]
    # vb already did 3 of 4 this month: va takes both rather than push vb to its cap
    busy = [VolunteerState("va", 4, 0), VolunteerState("vb", 4, 3)]
    r = optimal_assignment(prepare(needs, offers, busy), solver="highs")
    assert [s.volunteer_id for s in r.suggestions] == ["va", "va"]
    assert [s.components["fairness"] for s in r.suggestions] == [1.0, 0.75]
    full = [VolunteerState("va", 1, 1), VolunteerState("vb", 4, 3)]
    r = optimal_assignment(prepare(needs, offers, full), solver="highs")
    assert [s.volunteer_id for s in r.suggestions] == ["vb"]


def test_monthly_cap_is_shared_across_a_volunteers_offers():
    needs = [
        Need(f"n{i}", c, 52.52, 13.40, 0, 3600)
        for i, c in enumerate(["groceries", "transport", "repairs"])
    ]
    offers = [
        Offer("o1", "v", ("groceries",), 52.52, 13.40),
        Offer("o2", "v", ("transport",), 52.52, 13.40),
        Offer("o3", "v", ("repairs",), 52.52, 13.40),
    ]
    for solver in ("highs", "auto"):
        r = optimal_assignment(prepare(needs, offers, [VolunteerState("v", 2)]), solver=solver)
        assert r.slots_filled == 2
    assert greedy_assignment(prepare(needs, offers, [VolunteerState("v", 2)])).slots_filled == 2


def test_requester_is_never_matched_to_their_own_offer():
    needs = [Need("n", "groceries", 52.52, 13.40, 0, 3600, requester_id="v1")]
    offers = [Offer("o", "v1", ("groceries",), 52.52, 13.40)]
    assert optimal_assignment(prepare(needs, offers), solver="highs").slots_filled == 0


def test_a_need_for_two_volunteers_gets_two_people():
    needs = [Need("move", "repairs", 52.52, 13.40, 0, 3600, quantity=2)]
    offers = [
        Offer("a1", "va", ("repairs",), 52.52, 13.40),
        Offer("a2", "va", ("repairs", "transport"), 52.52, 13.40),
        Offer("b", "vb", ("repairs",), 52.55, 13.40, max_distance_km=5),
    ]
    problem = prepare(needs, offers)
    for solver in ("highs", "auto"):
        r = optimal_assignment(problem, solver=solver)
        assert sorted(s.volunteer_id for s in r.suggestions) == ["va", "vb"]
    assert sorted(s.volunteer_id for s in greedy_assignment(problem).suggestions) == ["va", "vb"]
