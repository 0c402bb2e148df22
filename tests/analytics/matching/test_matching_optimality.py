"""The optimal assignment is optimal: checked against brute force over every feasible assignment,
and against networkx's network simplex (an independent min-cost-flow implementation)."""

from __future__ import annotations

import networkx as nx
import pytest

from commonweal.analytics.matching import (
    MatchConfig,
    build_candidates,
    greedy_assignment,
    optimal_assignment,
    prepare,
)

SOLVERS = [
    "highs",
    pytest.param(
        "ortools",
        marks=pytest.mark.skipif(
            not __import__("importlib").util.find_spec("ortools"), reason="OR-tools not installed"
        ),
    ),
]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("objective_name", ["score", "urgent_first"])
def test_optimal_equals_brute_force(make_instance, oracle, solver, objective_name):
    config = MatchConfig(objective=objective_name)
    checked = 0
    for seed in range(80):
        needs, offers, vols = make_instance(seed)
        problem = prepare(needs, offers, vols)
        cands = build_candidates(problem, config)
        if len(cands) > 16:
            continue
        (urgent_best, score_best), _ = oracle.brute_force(problem, cands, config)
        result = optimal_assignment(problem, config, candidates=cands, solver=solver)
        index = cands.pair_index()
        rows = [index[(problem.need_index[n], problem.offer_index[o])] for n, o in result.pairs()]
        got = oracle.objective(problem, cands, rows)
        assert got == pytest.approx(score_best if len(cands) else 0.0, abs=1e-6), seed
        assert result.total_score == pytest.approx(got, abs=1e-9)
        if objective_name == "urgent_first" and len(cands):
            urgent = problem.need_urgency >= config.urgent_level
            assert sum(bool(urgent[cands.need[r]]) for r in rows) == urgent_best
        greedy = greedy_assignment(problem, config, candidates=cands)
        if objective_name == "score":
            assert greedy.total_score <= got + 1e-9
        else:
            g_urgent = sum(
                1
                for s in greedy.suggestions
                if problem.needs[problem.need_index[s.need_id]].urgency >= 3
            )
            assert (g_urgent, greedy.total_score) <= (urgent_best, got + 1e-9)
        checked += len(cands) > 0
    assert checked >= 40  # the instances really exercise the solver


def test_greedy_is_beaten_on_a_textbook_case(make_instance):
    """An urgent need that could use either offer grabs the one the other need depends on."""
    from commonweal.analytics.matching import Need, Offer

    needs = [
        Need("urgent", "groceries", 52.520, 13.405, 0, 3600, urgency=4),
        Need("normal", "groceries", 52.530, 13.405, 0, 3600, urgency=2),
    ]
    offers = [
        Offer("near-both", "v1", ("groceries",), 52.525, 13.405, max_distance_km=2),
        Offer("near-urgent", "v2", ("groceries",), 52.515, 13.405, max_distance_km=0.8),
    ]
    problem = prepare(needs, offers)
    greedy = greedy_assignment(problem)
    best = optimal_assignment(problem, solver="highs")
    assert greedy.slots_filled == 1
    assert sorted(best.pairs()) == [("normal", "near-both"), ("urgent", "near-urgent")]
    assert best.total_score > greedy.total_score


def _networkx_optimum(problem, cands, scale=10**6):
    """The same model as a min-cost flow solved by networkx.network_simplex (integer costs)."""
    g = nx.DiGraph()
    total = int(problem.need_quantity.sum())
    g.add_node("S", demand=-total)
    g.add_node("T", demand=total)
    g.add_edge("S", "T", capacity=total, weight=0)
    w_fair = cands.weights[6]
    for n, q in enumerate(problem.need_quantity):
        g.add_edge("S", ("n", n), capacity=int(q), weight=0)
    for r in range(len(cands)):
        g.add_edge(
            ("n", int(cands.need[r])), ("e", r), capacity=1, weight=-round(cands.score[r] * scale)
        )
        g.add_edge(("e", r), ("o", int(cands.offer[r])), capacity=1, weight=0)
    for o, c in enumerate(problem.offer_capacity):
        g.add_edge(("o", o), ("v", int(problem.offer_vol[o])), capacity=int(c), weight=0)
    for v in range(len(problem.volunteer_ids)):
        t, cap = int(problem.vol_taken[v]), int(problem.vol_cap[v])
        for j in range(t + 1, cap + 1):  # one slot per remaining match, decreasing value
            g.add_edge(
                ("v", v),
                ("s", v, j),
                capacity=1,
                weight=-round(w_fair * (1 - (j - 1) / cap) * scale),
            )
            g.add_edge(("s", v, j), "T", capacity=1, weight=0)
    cost, _ = nx.network_simplex(g)
    return -cost / scale


@pytest.mark.parametrize("solver", SOLVERS)
def test_matches_networkx_network_simplex_on_medium_instances(make_instance, solver):
    # outside reference: networkx.network_simplex on the same flow network (integer costs at 1e-6)
    for seed in range(3):
        needs, offers, vols = make_instance(1000 + seed, n_needs=40, n_offers=30)
        problem = prepare(needs, offers, vols)
        cands = build_candidates(problem)
        assert len(cands) > 50
        ref = _networkx_optimum(problem, cands)
        result = optimal_assignment(problem, candidates=cands, solver=solver)
        assert result.total_score == pytest.approx(ref, abs=1e-4)


def test_solvers_agree_and_are_deterministic(make_instance):
    needs, offers, vols = make_instance(77, n_needs=60, n_offers=40)
    problem = prepare(needs, offers, vols)
    a = optimal_assignment(problem, solver="highs")
    b = optimal_assignment(problem, solver="highs")
    assert a.to_dict() == b.to_dict()
    g1, g2 = greedy_assignment(problem), greedy_assignment(problem)
    assert g1.to_dict() == g2.to_dict()
    try:
        c = optimal_assignment(problem, solver="ortools")
    except Exception as exc:  # noqa: BLE001 - OR-tools is optional
        pytest.skip(f"OR-tools unavailable: {exc}")
    assert c.total_score == pytest.approx(a.total_score, abs=1e-6)
    assert c.to_dict() == optimal_assignment(problem, solver="ortools").to_dict()
