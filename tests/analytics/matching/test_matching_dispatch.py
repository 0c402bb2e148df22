"""Dispatcher overrides: accepted and overridden pairs stay, the rest is re-optimised exactly;
suggestions carry plain-language reasons."""

from __future__ import annotations

import numpy as np
import pytest

from commonweal.analytics.matching import (
    MatchConfig,
    Need,
    Offer,
    build_candidates,
    optimal_assignment,
    prepare,
    reoptimise,
)
from commonweal.analytics.matching.flow import take as _take
from commonweal.errors import InputError


def test_reoptimise_keeps_decisions_and_is_optimal_for_the_rest(make_instance, oracle):
    checked = 0
    for seed in range(60):
        needs, offers, vols = make_instance(2000 + seed)
        problem = prepare(needs, offers, vols)
        cands = build_candidates(problem)
        if not 3 <= len(cands) <= 14:
            continue
        first = optimal_assignment(problem, candidates=cands, solver="highs")
        if len(first.suggestions) < 2:
            continue
        accepted = [first.pairs()[0]]
        rejected = [first.pairs()[1]]
        again = reoptimise(problem, first, accepted=accepted, rejected=rejected, candidates=cands)
        assert accepted[0] in again.pairs()
        assert rejected[0] not in again.pairs()
        assert [s.fixed for s in again.suggestions if s.fixed] == [True]
        # brute force over the same candidates minus the rejected pair, with the accepted one fixed
        index = cands.pair_index()
        rejected_row = index[
            (problem.need_index[rejected[0][0]], problem.offer_index[rejected[0][1]])
        ]
        sub = _take(cands, np.array([r for r in range(len(cands)) if r != rejected_row]))
        sub_index = sub.pair_index()
        fixed_row = sub_index[
            (problem.need_index[accepted[0][0]], problem.offer_index[accepted[0][1]])
        ]
        (_, best), _ = oracle.brute_force(problem, sub, MatchConfig(), fixed=frozenset({fixed_row}))
        assert again.total_score == pytest.approx(best, abs=1e-6)
        checked += 1
    assert checked >= 8


def test_override_outside_the_rules_replaces_the_suggestion():
    needs = [
        Need("n1", "transport", 52.520, 13.40, 0, 3600),
        Need("n2", "transport", 52.521, 13.40, 0, 3600),
    ]
    offers = [
        Offer("near", "v1", ("transport",), 52.520, 13.40, max_distance_km=1),
        Offer("far", "v2", ("transport",), 52.60, 13.40, max_distance_km=1),  # ~9 km away
    ]
    problem = prepare(needs, offers)
    first = optimal_assignment(problem, solver="highs")
    assert len(first.suggestions) == 1
    need_id = first.suggestions[0].need_id
    again = reoptimise(problem, first, overrides=[(need_id, "far")])
    pairs = dict(again.pairs())
    assert pairs[need_id] == "far"
    other = "n2" if need_id == "n1" else "n1"
    assert pairs[other] == "near"  # the replaced suggestion's offer went to the other need
    forced = next(s for s in again.suggestions if s.offer_id == "far")
    assert forced.fixed and "set by dispatcher" in forced.reasons
    assert forced.components["distance"] == 0.0


def test_bad_dispatcher_decisions_are_input_errors():
    needs = [Need("n1", "groceries", 52.52, 13.40, 0, 3600)]
    offers = [
        Offer("o1", "v1", ("groceries",), 52.52, 13.40),
        Offer("o2", "v2", ("groceries",), 52.52, 13.40),
    ]
    problem = prepare(needs, offers)
    first = optimal_assignment(problem, solver="highs")
    other = "o2" if first.pairs()[0][1] == "o1" else "o1"
    with pytest.raises(InputError):
        reoptimise(problem, first, accepted=[("n1", other)])
    with pytest.raises(InputError):
        reoptimise(problem, first, overrides=[("n1", "nope")])
    with pytest.raises(InputError) as err:
        optimal_assignment(problem, fixed=[("n1", "o1"), ("n1", "o2")], solver="highs")
    assert "need 'n1'" in str(err.value)


def test_reasons_are_plain_language():
    needs = [
        Need("n", "translation", 52.520, 13.40, 0, 7200, urgency=3, languages=("es",),
             language_required=True, accessibility=("step_free",), skills=("legal",))
    ]  # fmt: skip
    offers = [
        Offer("o", "v", ("translation",), 52.530, 13.40, max_distance_km=3, vetted=True,
              languages=("en", "es"), skills=("step_free",), windows=((3600, 10800),))
    ]  # fmt: skip
    r = optimal_assignment(prepare(needs, offers), solver="highs")
    (s,) = r.suggestions
    assert s.reasons[0] == "1.1 km away (limit 3 km)"
    assert "speaks Spanish" in s.reasons
    assert "windows overlap 1 h" in s.reasons
    assert "urgent" in s.reasons
    assert "has step free" in s.reasons and "lacks legal" in s.reasons
    assert "vetted volunteer" in s.reasons
    assert "volunteer's 1st match this month (cap 8)" in s.reasons
    assert s.components["window"] == pytest.approx(0.5)
    assert s.components["fit"] == pytest.approx(0.5)
    assert s.components["urgency"] == pytest.approx(2 / 3)
    d = r.to_dict()
    assert d["suggestions"][0]["reasons"] == list(s.reasons)
